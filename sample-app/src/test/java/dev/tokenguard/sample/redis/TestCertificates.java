package dev.tokenguard.sample.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway certificate authority and a server certificate it issued, made with the {@code openssl} command line
 * (installed by the build's CI like {@code redis-server}): what a Redis with TLS needs ({@code --tls-cert-file},
 * {@code --tls-key-file}, {@code --tls-ca-cert-file}) and what a client trusts. EC P-256 keys, valid for two days.
 *
 * @param caCert     the CA's certificate (PEM)
 * @param serverCert the server's certificate (PEM), issued by the CA for the names given
 * @param serverKey  the server's private key (PEM, unencrypted)
 */
public record TestCertificates(Path caCert, Path serverCert, Path serverKey) {
    /**
     * Makes a CA in {@code dir} and a server certificate whose subject alternative names are {@code names}, e.g.
     * {@code IP:127.0.0.1} or {@code DNS:localhost}: a client that checks host names accepts exactly those.
     */
    public static TestCertificates issue(Path dir, String... names) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("ca.cnf"), String.join("\n",
                "[req]", "distinguished_name = dn", "prompt = no", "x509_extensions = ext",
                "[dn]", "CN = TokenGuard test CA " + dir.getFileName(),
                "[ext]", "basicConstraints = critical,CA:TRUE", "keyUsage = critical,keyCertSign,cRLSign",
                "subjectKeyIdentifier = hash", ""));
        Files.writeString(dir.resolve("server.ext"), String.join("\n", "basicConstraints = CA:FALSE",
                "keyUsage = critical,digitalSignature", "extendedKeyUsage = serverAuth",
                "subjectAltName = " + String.join(",", names), ""));
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-config", "ca.cnf");
        openssl(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=tokenguard-test-redis");
        openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.crt", "-days", "2", "-extfile", "server.ext");
        return new TestCertificates(dir.resolve("ca.crt"), dir.resolve("server.crt"), dir.resolve("server.key"));
    }

    /**
     * A PKCS#12 trust store holding the CA's certificate, for {@code -Djavax.net.ssl.trustStore} (with
     * {@code -Djavax.net.ssl.trustStorePassword=password}).
     */
    public Path trustStore(Path file, String password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        List<Certificate> certs = new ArrayList<>();
        try (InputStream in = Files.newInputStream(caCert)) {
            certs.addAll(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
        if (certs.size() != 1) {
            throw new IllegalStateException("expected one CA certificate in " + caCert + ", found " + certs.size());
        }
        store.setCertificateEntry("tokenguard-test-ca", certs.get(0));
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password.toCharArray());
        }
        return file;
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binary());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl " + args[0] + " failed: " + out);
        }
    }

    private static String binary() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/usr/local/bin").split(":")) {
            Path p = Path.of(d, "openssl");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException("openssl is not installed: the TLS store tests make their certificates with"
                + " it; install it (Debian: apt-get install openssl), as .ci/run does");
    }
}
