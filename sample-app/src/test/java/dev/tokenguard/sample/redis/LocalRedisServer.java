package dev.tokenguard.sample.redis;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} (Debian's package) on a free loopback port, in a directory of its own, with its
 * append-only file synced on every write so that a stop and a restart keep what it held (as a production Redis
 * would). Fails with a line that says what to install when the binary is missing: the build's CI installs it.
 * Optionally also on a TLS port ({@link #startWithTls}), beside the plain one, as a Redis 6+ can serve both.
 */
public final class LocalRedisServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final String password;
    private final TestCertificates tls;
    private final int tlsPort;
    private Process process;

    private LocalRedisServer(Path dir, int port, String password, TestCertificates tls, int tlsPort) {
        this.dir = dir;
        this.port = port;
        this.password = password;
        this.tls = tls;
        this.tlsPort = tlsPort;
    }

    public static LocalRedisServer start(Path dir, String password) throws IOException, InterruptedException {
        LocalRedisServer server = new LocalRedisServer(dir, freePort(), password, null, 0);
        server.restart();
        return server;
    }

    /** As {@link #start}, and also on a TLS port with the server certificate of {@code tls} (no client certificate). */
    public static LocalRedisServer startWithTls(Path dir, String password, TestCertificates tls)
            throws IOException, InterruptedException {
        LocalRedisServer server = new LocalRedisServer(dir, freePort(), password, tls, freePort());
        server.restart();
        return server;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    /** The TLS port (0 when started without TLS). */
    public int tlsPort() {
        return tlsPort;
    }

    /** The TLS port's URL with {@code host} (a name the client checks against the server certificate). */
    public String tlsUrl(String host) {
        return "rediss://" + host + ":" + tlsPort + "/0";
    }

    /** Starts the server (again, on the same port) and returns when it accepts connections. */
    public void restart() throws IOException, InterruptedException {
        String binary = binary();
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>(List.of(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir.toString()));
        if (password != null) {
            command.add("--requirepass");
            command.add(password);
        }
        if (tls != null) {
            command.addAll(List.of("--tls-port", Integer.toString(tlsPort),
                    "--tls-cert-file", tls.serverCert().toString(), "--tls-key-file", tls.serverKey().toString(),
                    "--tls-ca-cert-file", tls.caCert().toString(), "--tls-auth-clients", "no"));
        }
        process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server ended at start: " + Files.readString(dir.resolve("redis.log")));
            }
            try (Socket s = new Socket(); Socket t = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                if (tls != null) {
                    t.connect(new InetSocketAddress("127.0.0.1", tlsPort), 200);
                }
                return;
            } catch (IOException notYet) {
                Thread.onSpinWait();
            }
        }
        throw new IllegalStateException("redis-server did not accept connections on port " + port + " within 20 s");
    }

    /** One command through Debian's {@code redis-cli} (installed with the server); its reply, trimmed. */
    public String cli(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(binary()).resolveSibling("redis-cli").toString(),
                "-h", "127.0.0.1", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true);
        if (password != null) {
            b.environment().put("REDISCLI_AUTH", password);
        }
        Process p = b.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("redis-cli " + args[0] + " failed: " + out);
        }
        return out;
    }

    /** Stops the server and waits until it has gone. */
    public void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            process = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private static String binary() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/usr/local/bin").split(":")) {
            Path p = Path.of(d, "redis-server");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException("redis-server is not installed: the shared-budget tests need a real Redis;"
                + " install it (Debian: apt-get install redis-server), as .ci/run does");
    }
}
