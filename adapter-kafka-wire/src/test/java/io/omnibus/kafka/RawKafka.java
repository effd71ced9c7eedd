package io.omnibus.kafka;

import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.RequestUtils;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * Requests written byte by byte, for what real clients never send (bad versions, truncated or oversized frames,
 * corrupt batches) and for a group member that goes silent. Uses the protocol classes, so only the framing is ours.
 */
final class RawKafka implements AutoCloseable {
    final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int correlation;

    RawKafka(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends a request and returns its correlation id. */
    int send(ApiKeys api, short version, ApiMessage body) throws IOException {
        int id = ++correlation;
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(version)
                .setCorrelationId(id).setClientId("raw");
        ByteBuffer b = RequestUtils.serialize(header, api.requestHeaderVersion(version), body, version);
        frame(b.array(), b.arrayOffset() + b.position(), b.remaining());
        return id;
    }

    void frame(byte[] bytes, int offset, int length) throws IOException {
        out.write(ByteBuffer.allocate(4).putInt(length).array());
        out.write(bytes, offset, length);
        out.flush();
    }

    void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads the next response as {@code api} at {@code version}; checks the correlation id. */
    <T extends ApiMessage> T receive(ApiKeys api, short version, int expectedCorrelation, T into) throws IOException {
        int size = in.readInt();
        byte[] bytes = new byte[size];
        in.readFully(bytes);
        ByteBufferAccessor accessor = new ByteBufferAccessor(ByteBuffer.wrap(bytes));
        ResponseHeaderData header = new ResponseHeaderData(accessor, api.responseHeaderVersion(version));
        if (header.correlationId() != expectedCorrelation) {
            throw new IOException("correlation id " + header.correlationId() + ", expected " + expectedCorrelation);
        }
        into.read(accessor, version);
        return into;
    }

    /** Whether the gateway has closed the connection (reads end of stream within the socket timeout). */
    boolean closedByPeer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
