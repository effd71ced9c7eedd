package io.omnibus.oms;

import io.omnibus.openmessaging.remoting.RemotingCodec;
import io.omnibus.openmessaging.remoting.RemotingCommand;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One TCP connection to the gateway's remoting port. Requests are written whole under a lock; a reader thread
 * completes each answer's future by its opaque and hands requests the gateway sends (check-backs, membership
 * notices) to {@code onRequest}. A broken connection fails what waits on it and is opened again by the next call.
 */
final class RemotingClient implements AutoCloseable {
    private static final int MAX_FRAME = 64 * 1024 * 1024;

    private final String host;
    private final int port;
    private final Consumer<RemotingCommand> onRequest;
    private final ScheduledExecutorService timer;
    private final AtomicInteger opaque = new AtomicInteger();
    /** A request waiting for its answer: the socket it was written on, its timeout. */
    private record Pending(CompletableFuture<RemotingCommand> answer, Socket socket,
                           java.util.concurrent.ScheduledFuture<?> timeout) {
    }

    private final Map<Integer, Pending> waiting = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Socket socket;
    private volatile OutputStream out;
    private volatile boolean closed;

    RemotingClient(String address, Consumer<RemotingCommand> onRequest, ScheduledExecutorService timer) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw Errors.badParameter("the endpoint '" + address + "' is not host:port");
        }
        this.host = address.substring(0, colon);
        try {
            this.port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw Errors.badParameter("the endpoint '" + address + "' has no port number");
        }
        this.onRequest = onRequest;
        this.timer = timer;
    }

    /** Sends a request and completes with its answer, or fails after {@code timeoutMillis}. */
    CompletableFuture<RemotingCommand> call(RemotingCommand request, long timeoutMillis) {
        int id = opaque.incrementAndGet();
        request.opaque(id);
        int code = request.code();
        CompletableFuture<RemotingCommand> answer = new CompletableFuture<>();
        try {
            lock.lock();
            try {
                Socket on = connect();
                // the timer only completes futures (it never blocks): the timeout holds the code, not the request
                waiting.put(id, new Pending(answer, on, timer.schedule(() -> {
                    Pending p = waiting.remove(id);
                    if (p != null) {
                        p.answer().completeExceptionally(new TimeoutException("no answer to request " + code + " from "
                                + host + ":" + port + " within " + timeoutMillis + " ms"));
                    }
                }, timeoutMillis, TimeUnit.MILLISECONDS)));
                send(request);
            } finally {
                lock.unlock();
            }
        } catch (IOException e) {
            Pending p = waiting.remove(id);
            if (p != null) {
                p.timeout().cancel(false);
            }
            answer.completeExceptionally(e);
        }
        return answer;
    }

    /** Sends a oneway request (or a response): nothing comes back. */
    void oneway(RemotingCommand request) throws IOException {
        if (!request.isResponse()) {
            request.opaque(opaque.incrementAndGet()).oneway();
        }
        write(request);
    }

    private void write(RemotingCommand cmd) throws IOException {
        lock.lock();
        try {
            connect();
            send(cmd);
        } finally {
            lock.unlock();
        }
    }

    /** Writes a frame on the open connection (under the write lock); a failure breaks the connection. */
    private void send(RemotingCommand cmd) throws IOException {
        ByteBuffer frame = RemotingCodec.encode(cmd);
        Socket s = socket;
        try {
            out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            out.flush();
        } catch (IOException e) {
            broken(s, e);
            throw e;
        }
    }

    /** The open connection, opened now when there is none (under the write lock). */
    private Socket connect() throws IOException {
        if (closed) {
            throw new IOException("the client is shut down");
        }
        if (socket != null && !socket.isClosed()) {
            return socket;
        }
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
        s.connect(new InetSocketAddress(host, port), 5_000);
        socket = s;
        out = s.getOutputStream();
        Thread reader = new Thread(() -> read(s), "omnibus-oms-reader-" + host + ":" + port);
        reader.setDaemon(true);
        reader.start();
        return s;
    }

    private void read(Socket s) {
        try {
            DataInputStream in = new DataInputStream(s.getInputStream());
            while (!closed) {
                int length = in.readInt();
                if (length < 4 || length > MAX_FRAME) {
                    throw new IOException("a frame of " + length + " bytes from the gateway");
                }
                byte[] frame = new byte[length];
                in.readFully(frame);
                RemotingCommand cmd = RemotingCodec.decode(ByteBuffer.wrap(frame));
                if (cmd.isResponse()) {
                    Pending p = waiting.remove(cmd.opaque());
                    if (p != null) {
                        p.timeout().cancel(false);
                        p.answer().complete(cmd);
                    }
                } else {
                    onRequest.accept(cmd);
                }
            }
        } catch (IOException | RuntimeException e) {
            broken(s, e);
        }
    }

    /**
     * Closes a broken connection and fails the requests written on it (not those of a connection opened since:
     * those may well be answered).
     */
    private void broken(Socket s, Exception cause) {
        if (s == null) {
            return;
        }
        lock.lock();
        try {
            if (socket == s) {
                socket = null;
            }
        } finally {
            lock.unlock();
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Map.Entry<Integer, Pending> e : waiting.entrySet()) {
            if (e.getValue().socket() == s && waiting.remove(e.getKey(), e.getValue())) {
                e.getValue().timeout().cancel(false);
                e.getValue().answer().completeExceptionally(new IOException("the connection to " + host + ":" + port
                        + " broke", cause));
            }
        }
    }

    /** Closes the connection now (a request to it timed out: it may be half open); the next request opens another. */
    void reset() {
        broken(socket, new IOException("reset after a timeout"));
    }

    @Override
    public void close() {
        closed = true;
        broken(socket, new IOException("shut down"));
    }
}
