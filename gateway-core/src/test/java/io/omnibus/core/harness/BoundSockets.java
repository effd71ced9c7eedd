package io.omnibus.core.harness;

import javax.net.SocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Sockets that connect from a given local address, e.g. {@code 127.0.0.2} (all of 127/8 is this machine's), so that a
 * test can tell clients apart by address on loopback: a proxy's own connections come from {@code 127.0.0.1}.
 */
public final class BoundSockets extends SocketFactory {
    private final String from;

    public BoundSockets(String from) {
        this.from = from;
    }

    @Override
    public Socket createSocket() throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        return s;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        Socket s = createSocket();
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return createSocket(host, port); // bound to this factory's address, whatever was asked
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return createSocket(host.getHostAddress(), port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return createSocket(address.getHostAddress(), port);
    }
}
