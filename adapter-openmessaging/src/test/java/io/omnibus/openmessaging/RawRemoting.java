package io.omnibus.openmessaging;

import io.omnibus.openmessaging.remoting.RemotingCodec;
import io.omnibus.openmessaging.remoting.RemotingCommand;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;

/** A bare remoting connection for wire tests: frames as they are written, answers as they come. */
final class RawRemoting implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    RawRemoting(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    void send(RemotingCommand cmd) throws IOException {
        ByteBuffer frame = RemotingCodec.encode(cmd);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        sendRaw(bytes);
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    RemotingCommand read() throws IOException {
        int length = in.readInt();
        byte[] frame = new byte[length];
        in.readFully(frame);
        return RemotingCodec.decode(ByteBuffer.wrap(frame));
    }

    RemotingCommand call(RemotingCommand cmd) throws IOException {
        send(cmd);
        return read();
    }

    /** Whether the gateway closed the connection (waiting up to the socket timeout). */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
