package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.redis.LocalRedisServer;
import dev.tokenguard.sample.redis.TestCertificates;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Budgets shared by several JVMs through a real Redis ({@code redis-server} started on a free loopback port, with a
 * password, and on a TLS port with a certificate of a throwaway CA): four JVMs of eight threads on one global budget,
 * through the store stopped and restarted ({@code on-failure} local and refuse, plain and TLS); a wrong password; and
 * no store class loaded when no store is configured.
 */
class SharedBudgetIT {
    static final String APP = "dev.tokenguard.it.app.FleetBudgetApp";
    static final String PASSWORD = "it-store-pw-4d8a";
    static final long CAP = 10_000;
    /** Calls per JVM in each step around the outage. */
    static final int CALLS = 3;

    @TempDir
    static Path redisDir;
    static TestCertificates certs;
    static LocalRedisServer redis;

    @TempDir
    Path work;

    @BeforeAll
    static void startRedis() throws Exception {
        certs = TestCertificates.issue(redisDir.resolve("tls"), "IP:127.0.0.1");
        redis = LocalRedisServer.startWithTls(redisDir.resolve("redis"), PASSWORD, certs);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
    }

    /**
     * The store's timeout is 5 s here, not the default 200 ms: these tests are about sharing and outages, and on a
     * build machine shared with other builds a healthy loopback Redis can take longer than 200 ms to answer.
     */
    static String agentArgs(String storeUrl, String namespace, String more) {
        return "budget.scope=global,store=" + storeUrl + ",store.namespace=" + namespace + ",store.timeout=5s"
                + more;
    }

    /** The plain URL, or the TLS one for a JVM whose tag starts with {@code tls}. */
    static String storeUrl(String tag) {
        return tag.startsWith("tls") ? redis.tlsUrl("127.0.0.1") : redis.url();
    }

    static Map<String, String> withPassword(String password) {
        return Map.of("TOKENGUARD_STORE_PASSWORD", password);
    }

    long usedInStore(String namespace) throws Exception {
        String v = redis.cli("HGET", "tokenguard:" + namespace + ":default:global:0", "u0");
        return v.isEmpty() ? 0 : Long.parseLong(v);
    }

    /**
     * Four JVMs of one fleet, two on the plain port and two on the TLS port (trusting the test CA through the JVM's
     * trust store, {@code javax.net.ssl.trustStore}), one of each pair with {@code on-failure=local} and one with
     * {@code refuse}. Each makes a few calls, the store stops, each makes a few more, the store restarts, each makes a
     * few more; then every JVM runs eight threads that call until refused on the shared budget, and reads the
     * agent's MBean.
     */
    @Test
    void fourJvmsShareOneBudgetThroughAnOutageOnPlainAndTlsConnections() throws Exception {
        Path signals = Files.createDirectories(work.resolve("signals"));
        String trustStore = certs.trustStore(work.resolve("trust.p12"), "it-trust-pw").toString();
        List<String> tags = List.of("plain-local", "plain-refuse", "tls-local", "tls-refuse");
        Map<String, ForkedJvm.Result> results = new TreeMap<>();
        Map<String, Path> dirs = new TreeMap<>();
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            server.setAnswerDelay(java.time.Duration.ofMillis(5)); // calls overlap: reservations in flight matter
            ExecutorService pool = Executors.newFixedThreadPool(tags.size());
            Map<String, Future<ForkedJvm.Result>> runs = new TreeMap<>();
            for (String tag : tags) {
                Path dir = Files.createDirectories(work.resolve(tag));
                dirs.put(tag, dir);
                boolean tls = tag.startsWith("tls");
                List<String> jvmOptions = tls ? List.of("-Djavax.net.ssl.trustStore=" + trustStore,
                        "-Djavax.net.ssl.trustStorePassword=it-trust-pw") : List.of();
                runs.put(tag, pool.submit(() -> ForkedJvm.run(dir, agentArgs(storeUrl(tag), "fleet",
                                ",budget.max-tokens=" + CAP + ",budget.reserve-output=64,store.on-failure="
                                        + tag.substring(tag.indexOf('-') + 1)), jvmOptions, withPassword(PASSWORD),
                        APP, server.baseUrl(), signals.toString(), tag, Integer.toString(CALLS), "8")));
            }
            awaitFiles(signals, tags, ".1", dirs);
            assertEquals(server.totalTokens(), usedInStore("fleet"));
            redis.stop();
            Files.createFile(signals.resolve("stopped"));
            awaitFiles(signals, tags, ".2", dirs);
            redis.restart();
            Files.createFile(signals.resolve("restarted"));
            awaitFiles(signals, tags, ".3", dirs);
            // nothing spent while the store was away is lost: once the JVMs added it, the store holds what the
            // server answered
            long answered = server.totalTokens();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (usedInStore("fleet") != answered && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(answered, usedInStore("fleet"));
            assertEquals(CALLS * (3 + 2 + 3 + 2), server.requestCount(), "three steps of calls in each local JVM,"
                    + " the first and last in each refusing one");
            Files.createFile(signals.resolve("go"));
            for (String tag : tags) {
                results.put(tag, runs.get(tag).get(200, TimeUnit.SECONDS)); // each fork ends within 180 s
            }
            pool.shutdown();

            long charged = server.totalTokens();
            System.out.printf("4 JVMs x 8 threads, shared global budget of %,d tokens: %,d tokens answered in %d"
                    + " requests (%.2f %% of the cap)%n", CAP, charged, server.requestCount(), 100.0 * charged / CAP);
            assertTrue(charged >= CAP, "the budget was used up: " + charged);
            assertTrue(charged <= CAP + CAP / 10, "within 10 % of the cap: " + charged);
            assertEquals(charged, usedInStore("fleet"), "the store counted every token the server answered");
            long ownSum = 0;
            assertEquals(4, results.size());
            for (String tag : tags) {
                ForkedJvm.Result r = results.get(tag);
                assertEquals(0, r.exitCode(), r::toString);
                assertEquals(List.of(), r.lines("FAILED"), r::toString);
                assertEquals(CALLS, r.lines("PHASE1 OK").size(), r::toString);
                assertEquals(CALLS, r.lines("PHASE3 OK").size(), r::toString);
                if (tag.endsWith("local")) {
                    assertEquals(CALLS, r.lines("PHASE2 OK").size(), "no failure while the store was away: " + r);
                } else {
                    List<String> refused = r.lines("PHASE2 REFUSED ");
                    assertEquals(CALLS, refused.size(), r::toString);
                    for (String line : refused) {
                        assertTrue(line.contains("the budget store cannot be reached;"
                                + " tokenguard.store.on-failure=refuse"), line);
                    }
                }
                List<String> agent = r.agentLines();
                assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java 4.101.0",
                        ForkedJvm.GOVERNING_OKHTTP), agent.stream().filter(l -> l.contains(" governing ")).toList(),
                        r::toString);
                List<String> store = agent.stream().filter(l -> l.contains("budget store")).toList();
                assertEquals(2, store.size(), r::toString);
                assertEquals(4, agent.size(), r::toString);
                assertTrue(store.get(0).contains("the budget store " + storeUrl(tag) + " cannot be reached"),
                        store.get(0));
                assertTrue(store.get(1).contains("answers again"), store.get(1));
                for (List<String> stream : List.of(r.stdout(), r.stderr())) {
                    for (String l : stream) {
                        assertFalse(l.contains(PASSWORD), l);
                    }
                }
                List<String> refused = r.lines("REFUSED ");
                assertEquals(8, refused.size(), "every thread of every JVM ends refused: " + r);
                for (String line : refused) {
                    assertTrue(line.contains("Token budget 'default' exhausted for scope global"), line);
                }
                // JMX shows the fleet's usage: at least the cap (every JVM was refused), at most what was answered;
                // and this JVM's own share beside it, as its session log adds up
                List<String> total = r.lines("TOTALUSED ");
                assertEquals(1, total.size(), r::toString);
                assertTrue(total.get(0).matches("TOTALUSED default=\\d+ \\(fleet\\)"), total.get(0));
                long shown = Long.parseLong(total.get(0).replaceAll("\\D", ""));
                assertTrue(shown >= CAP && shown <= charged, shown + " of " + charged);
                long own = 0;
                List<JsonNode> calls = SessionLogs.read(dirs.get(tag).resolve("tokenguard-sessions")).of("llm_call");
                assertTrue(calls.size() >= 2 * CALLS, tag + ": " + calls.size());
                for (JsonNode c : calls) {
                    own += c.path("total_tokens").asLong();
                }
                ownSum += own;
                List<String> status = r.lines("STATUS ");
                assertEquals(1, status.size(), r::toString);
                assertTrue(status.get(0).startsWith("STATUS default (scope global, mode enforce): max-tokens=" + CAP
                        + "; used " + shown + " tokens over all scopes (fleet: the shared store's count as last seen;"
                        + " this JVM's own: "), status.get(0));
                long statusOwn = Long.parseLong(status.get(0).substring(status.get(0).lastIndexOf(' ') + 1)
                        .replace(")", ""));
                assertEquals(own, statusOwn, status.get(0));
            }
            assertEquals(charged, ownSum, "the JVMs' own shares add up to what the server answered");
        }
        Map<String, Integer> warned = new TreeMap<>();
        int warnings = 0;
        for (Path dir : dirs.values()) {
            for (JsonNode w : SessionLogs.read(dir.resolve("tokenguard-sessions")).of("budget_warning")) {
                warned.merge(w.path("threshold").asText(), 1, Integer::sum);
                warnings++;
            }
        }
        assertEquals(3, warnings, "each threshold once across the four JVMs: " + warned);
        assertEquals(Map.of("0.75", 1, "0.9", 1, "0.95", 1), warned);
    }

    @Test
    void aWrongPasswordIsOneClearLine() throws Exception {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            ForkedJvm.Result r = ForkedJvm.run(work, agentArgs(redis.url(), "wrong-password", ",budget.max-tokens=1M"), List.of(),
                    withPassword("not-it-at-all-93"), "dev.tokenguard.it.app.ScenarioApp", "sync", server.baseUrl(),
                    "3");
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals(3, r.lines("OK ").size(), r::toString);
            List<String> store = r.agentLines().stream().filter(l -> l.contains("budget store")).toList();
            assertEquals(1, store.size(), r::toString);
            assertTrue(store.get(0).contains("cannot be reached (it refused the password: WRONGPASS"), store.get(0));
            assertTrue(store.get(0).contains("TOKENGUARD_STORE_PASSWORD"), store.get(0));
            for (List<String> stream : List.of(r.stdout(), r.stderr())) {
                for (String l : stream) {
                    assertFalse(l.contains("not-it-at-all-93"), l);
                    assertFalse(l.contains(PASSWORD), l);
                }
            }
        }
    }

    @Test
    void noStoreClassLoadsWithoutAStore() throws Exception {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            ForkedJvm.Result r = ForkedJvm.run(work, "budget.scope=global", List.of("-Xlog:class+load=info"),
                    Map.of(), "dev.tokenguard.it.app.ScenarioApp", "sync", server.baseUrl(), "2");
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals(2, r.lines("OK ").size(), r::toString);
            List<String> loaded = r.stdout().stream().filter(l -> l.contains(" dev.tokenguard.")).toList();
            assertTrue(loaded.size() > 50, "the log names the agent's classes: " + loaded.size());
            assertTrue(loaded.stream().anyMatch(l -> l.contains("dev.tokenguard.core.Governor ")), "Governor loaded");
            assertEquals(List.of(), loaded.stream().filter(l -> l.contains("dev.tokenguard.budget.store.")).toList());
        }
    }

    /**
     * Waits until {@code <signals>/<tag><suffix>} exists for every tag, at most 170 s in all (a forked JVM is ended
     * after 180 s); past that, fails with what each JVM printed so far.
     */
    private static void awaitFiles(Path signals, List<String> tags, String suffix, Map<String, Path> dirs)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(170);
        for (String tag : tags) {
            Path f = signals.resolve(tag + suffix);
            while (!Files.exists(f)) {
                if (System.nanoTime() > deadline) {
                    StringBuilder printed = new StringBuilder();
                    for (Map.Entry<String, Path> d : dirs.entrySet()) {
                        try (var files = Files.list(d.getValue())) {
                            for (Path out : files.filter(p -> p.getFileName().toString().matches("std(out|err).*"
                                    + "\\.txt")).sorted().toList()) {
                                printed.append("\n--- ").append(d.getKey()).append(' ').append(out.getFileName())
                                        .append('\n').append(Files.readString(out));
                            }
                        }
                    }
                    throw new IllegalStateException("the scenario did not reach " + f.getFileName()
                            + " within 170 s" + printed);
                }
                Thread.sleep(10);
            }
        }
    }
}
