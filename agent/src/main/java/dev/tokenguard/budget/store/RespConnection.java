package dev.tokenguard.budget.store;

import dev.tokenguard.config.StoreAddress;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One blocking connection to a Redis server speaking RESP2: a command is an array of bulk strings, a reply is a simple
 * string, an error, an integer, a bulk string or an array of those.
 *
 * <p>Why not Jedis: the store sends five commands ({@code AUTH}, {@code SELECT}, {@code PING}, {@code SCRIPT LOAD},
 * {@code EVALSHA}) on a connection per calling thread. Jedis would add commons-pool2, gson, org.json and slf4j-api to
 * the agent jar, and slf4j-api without a provider prints a warning on the host's stderr; this class is the whole
 * protocol we use, over a plain (or TLS) socket with the store's timeout on connect and on every read.
 */
final class RespConnection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** A reply the server sent as an error ({@code -ERR ...}, {@code -NOSCRIPT ...}, {@code -WRONGPASS ...}). */
    static final class ServerError extends IOException {
        ServerError(String message) {
            super(message);
        }

        /** The error's first word, e.g. {@code NOSCRIPT}. */
        String code() {
            String m = getMessage();
            int space = m.indexOf(' ');
            return space < 0 ? m : m.substring(0, space);
        }
    }

    private RespConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 8192);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 8192);
    }

    /** As {@link #open(StoreAddress, SSLSocketFactory, int)} with the JVM's default TLS set-up. */
    static RespConnection open(StoreAddress address, int timeoutMillis) throws IOException {
        return open(address, (SSLSocketFactory) SSLSocketFactory.getDefault(), timeoutMillis);
    }

    /**
     * Connects, authenticates when a password is given and selects the database.
     *
     * @param tls           the sockets of a {@code rediss://} address (its trust decides which certificates pass)
     * @param timeoutMillis bound of the connect, of the TLS handshake's reads and of every later read
     */
    static RespConnection open(StoreAddress address, SSLSocketFactory tls, int timeoutMillis) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(timeoutMillis);
            socket.connect(new InetSocketAddress(address.host(), address.port()), timeoutMillis);
            if (address.tls()) {
                // layered on the connected socket so that the host name goes out as SNI, and is checked against the
                // server's certificate as HTTPS clients do
                SSLSocket ssl = (SSLSocket) tls.createSocket(socket, address.host(), address.port(), true);
                SSLParameters parameters = ssl.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(parameters);
                ssl.setSoTimeout(timeoutMillis);
                socket = ssl;
                try {
                    ssl.startHandshake();
                } catch (java.net.SocketTimeoutException e) {
                    // a plain Redis port reads the TLS greeting as the start of a command and waits for the rest
                    throw new javax.net.ssl.SSLException("no answer to the TLS handshake within the timeout,"
                            + " tokenguard.store.timeout");
                }
            }
            RespConnection c = new RespConnection(socket);
            if (address.password() != null) {
                if (address.user() != null) {
                    c.call("AUTH", address.user(), address.password());
                } else {
                    c.call("AUTH", address.password());
                }
            }
            if (address.database() != 0) {
                c.call("SELECT", Integer.toString(address.database()));
            }
            return c;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends one command and reads its reply: a String, Long, byte-less null, or List of those. */
    Object call(String... args) throws IOException {
        write(args);
        out.flush();
        return read();
    }

    private void write(String[] args) throws IOException {
        out.write('*');
        out.write(Integer.toString(args.length).getBytes(StandardCharsets.US_ASCII));
        out.write('\r');
        out.write('\n');
        for (String a : args) {
            byte[] b = a.getBytes(StandardCharsets.UTF_8);
            out.write('$');
            out.write(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
            out.write('\r');
            out.write('\n');
            out.write(b);
            out.write('\r');
            out.write('\n');
        }
    }

    private Object read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("the store closed the connection");
        }
        String line = line();
        switch (type) {
            case '+':
                return line;
            case '-':
                throw new ServerError(line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                byte[] b = in.readNBytes(n);
                if (b.length < n || in.read() != '\r' || in.read() != '\n') {
                    throw new EOFException("the store's reply was cut short");
                }
                return new String(b, StandardCharsets.UTF_8);
            }
            case '*': {
                int n = Integer.parseInt(line);
                if (n < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    try {
                        items.add(read());
                    } catch (ServerError e) {
                        items.add(e); // an error inside an array (a script's error reply) is a value there
                    }
                }
                return items;
            }
            default:
                throw new IOException("not a Redis reply (first byte " + type + ")");
        }
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder(16);
        for (;;) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("the store closed the connection");
            }
            if (c == '\r') {
                if (in.read() != '\n') {
                    throw new IOException("not a Redis reply (CR without LF)");
                }
                return sb.toString();
            }
            sb.append((char) c);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to do with it
        }
    }
}
