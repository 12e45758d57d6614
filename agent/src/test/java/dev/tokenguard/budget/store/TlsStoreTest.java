package dev.tokenguard.budget.store;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.Estimate;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.config.StoreAddress;
import dev.tokenguard.config.StoreFailureMode;
import dev.tokenguard.sample.redis.LocalRedisServer;
import dev.tokenguard.sample.redis.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code rediss://} store: a real {@code redis-server} on a TLS port (beside its plain one, which the test reads the
 * store through) with a certificate for {@code 127.0.0.1} only, issued by a throwaway CA.
 */
class TlsStoreTest {
    static final String PASSWORD = "tls-pw-81c3a0";
    static final List<BudgetSpec> BUDGETS = List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL, 1000L,
            null, null, null, null, new double[]{0.5}, EnforcementMode.ENFORCE));

    @TempDir
    static Path dir;
    static TestCertificates certs;
    /** A CA that issued nothing the server holds. */
    static TestCertificates stranger;
    static LocalRedisServer redis;

    @BeforeAll
    static void startRedis() throws Exception {
        certs = TestCertificates.issue(dir.resolve("ca"), "IP:127.0.0.1");
        stranger = TestCertificates.issue(dir.resolve("stranger"), "IP:127.0.0.1");
        redis = LocalRedisServer.startWithTls(dir.resolve("redis"), PASSWORD, certs);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
    }

    /** A store client of one JVM and what it printed. */
    record Client(BudgetEngine engine, SharedBudgets shared, ConcurrentLinkedQueue<String> lines) {
        static Client start(String host, int port, Path caFile, String namespace, StoreFailureMode mode) {
            return start(host, port, caFile, namespace, mode, Duration.ofSeconds(5));
        }

        static Client start(String host, int port, Path caFile, String namespace, StoreFailureMode mode,
                            Duration timeout) {
            ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
            StoreAddress address = new StoreAddress(host, port, 0, true, null, PASSWORD);
            return new Client(new BudgetEngine(BUDGETS, Clock.systemUTC(), MdcSource.NONE, SessionListener.NONE),
                    SharedBudgets.redis(address, caFile, namespace, timeout, mode,
                            Duration.ofMinutes(15), Clock.systemUTC(), lines::add), lines);
        }

        /** One call of 60 + 40 tokens: the result, or null when refused. */
        ChargeResult call() {
            CallScope scope = engine.enter();
            SharedBudgets.Ticket t = shared.admit(scope, BUDGETS, new Estimate(60, 40, 0), 0);
            if (t.refusal() != null) {
                return null;
            }
            return shared.settle(t, scope, BUDGETS, engine.charge(scope, 60, 40, null), 60, 40, null);
        }

        /** The one line printed once the store was found unreachable. */
        String outageLine() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (lines.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            List<String> all = List.copyOf(lines);
            assertEquals(1, all.size(), all.toString());
            assertFalse(all.get(0).contains(PASSWORD), all.get(0));
            return all.get(0);
        }
    }

    static String usedInStore(String namespace) throws Exception {
        return redis.cli("HGET", "tokenguard:" + namespace + ":default:global:0", "u0");
    }

    @Test
    void chargesThroughTlsWhenTheCaFileIssuedTheServersCertificate() throws Exception {
        Client c = Client.start("127.0.0.1", redis.tlsPort(), certs.caCert(), "tls-ok", StoreFailureMode.LOCAL);
        try {
            assertEquals(100, c.call().states().get(0).used());
            assertEquals(200, c.call().states().get(0).used());
            assertEquals("200", usedInStore("tls-ok"), "counted by the server, read through its plain port");
            assertTrue(c.shared().reachable());
            assertEquals(List.of(), List.copyOf(c.lines()));
        } finally {
            c.shared().close();
        }
    }

    @Test
    void anUntrustedCertificateIsOneLineAndCallsGoOnCountedLocally() throws Exception {
        Client c = Client.start("127.0.0.1", redis.tlsPort(), stranger.caCert(), "tls-untrusted",
                StoreFailureMode.LOCAL);
        try {
            String line = c.outageLine();
            assertTrue(line.startsWith("TokenGuard: the budget store rediss://127.0.0.1:" + redis.tlsPort()
                    + "/0 cannot be reached (its TLS certificate is not trusted ("), line);
            assertTrue(line.contains("expected a certificate that chains to a CA in tokenguard.store.tls.ca-file"),
                    line);
            assertTrue(line.endsWith("(tokenguard.store.on-failure=local)"), line);
            ChargeResult r = c.call();
            assertNotNull(r, "admitted, counted in this JVM");
            assertEquals(100, r.states().get(0).used());
            assertEquals("", usedInStore("tls-untrusted"), "nothing reached the server");
        } finally {
            c.shared().close();
        }
    }

    @Test
    void anUntrustedCertificateRefusesSharedCallsInRefuseMode() throws Exception {
        Client c = Client.start("127.0.0.1", redis.tlsPort(), stranger.caCert(), "tls-refuse",
                StoreFailureMode.REFUSE);
        try {
            assertTrue(c.outageLine().contains("its TLS certificate is not trusted"));
            assertNull(c.call(), "refused while the store cannot be reached");
            SharedBudgets.Ticket t = c.shared().admit(c.engine().enter(), BUDGETS, new Estimate(60, 40, 0), 0);
            assertTrue(t.storeUnreachable());
        } finally {
            c.shared().close();
        }
    }

    @Test
    void theHostNameIsCheckedAgainstTheCertificate() throws Exception {
        // localhost is 127.0.0.1 here, but the certificate names only the address: a trusted CA is not enough
        Client c = Client.start("localhost", redis.tlsPort(), certs.caCert(), "tls-host", StoreFailureMode.LOCAL);
        try {
            String line = c.outageLine();
            assertTrue(line.startsWith("TokenGuard: the budget store rediss://localhost:" + redis.tlsPort()
                    + "/0 cannot be reached (its TLS certificate does not name the host of the URL ("), line);
            assertTrue(line.contains("localhost"), line);
            assertNotNull(c.call());
            assertEquals("", usedInStore("tls-host"));
        } finally {
            c.shared().close();
        }
    }

    @Test
    void aTlsUrlForAPlainPortSaysSo() throws Exception {
        // a plain port takes the TLS greeting for the start of a command and waits for its end: the timeout tells
        Client c = Client.start("127.0.0.1", redis.port(), certs.caCert(), "tls-plain", StoreFailureMode.LOCAL,
                Duration.ofMillis(500));
        try {
            String line = c.outageLine();
            assertTrue(line.contains("cannot be reached (the TLS handshake failed (no answer to the TLS handshake"
                    + " within the timeout, tokenguard.store.timeout); "), line);
            assertTrue(line.contains("expected a TLS port for a rediss:// URL"), line);
        } finally {
            c.shared().close();
        }
    }
}
