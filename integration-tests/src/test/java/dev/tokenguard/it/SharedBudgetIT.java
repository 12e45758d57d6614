package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.redis.LocalRedisServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * password): four JVMs of eight threads on one global budget; the store stopped and restarted under two JVMs
 * ({@code on-failure} local and refuse); a wrong password; and no store class loaded when no store is configured.
 */
class SharedBudgetIT {
    static final String APP = "dev.tokenguard.it.app.FleetBudgetApp";
    static final String PASSWORD = "it-store-pw-4d8a";
    static final long CAP = 10_000;

    @TempDir
    static Path redisDir;
    static LocalRedisServer redis;

    @TempDir
    Path work;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = LocalRedisServer.start(redisDir, PASSWORD);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
    }

    /**
     * The store's timeout is 5 s here, not the default 200 ms: these tests are about sharing and outages, and on a
     * build machine shared with other builds a healthy loopback Redis can take longer than 200 ms to answer.
     */
    static String agentArgs(String namespace, String more) {
        return "budget.scope=global,store=" + redis.url() + ",store.namespace=" + namespace + ",store.timeout=5s"
                + more;
    }

    static Map<String, String> withPassword(String password) {
        return Map.of("TOKENGUARD_STORE_PASSWORD", password);
    }

    long usedInStore(String namespace) throws Exception {
        String v = redis.cli("HGET", "tokenguard:" + namespace + ":default:global:0", "u0");
        return v.isEmpty() ? 0 : Long.parseLong(v);
    }

    @Test
    void fourJvmsOfEightThreadsShareOneBudget() throws Exception {
        List<ForkedJvm.Result> results = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            server.setAnswerDelay(java.time.Duration.ofMillis(5));
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<ForkedJvm.Result>> runs = new ArrayList<>();
            for (int j = 0; j < 4; j++) {
                Path dir = Files.createDirectories(work.resolve("jvm" + j));
                dirs.add(dir);
                runs.add(pool.submit(() -> ForkedJvm.run(dir, agentArgs("four", ",budget.max-tokens=" + CAP
                                + ",budget.reserve-output=64"), List.of(), withPassword(PASSWORD), APP,
                        server.baseUrl(), "until-refused", "8")));
            }
            for (Future<ForkedJvm.Result> r : runs) {
                results.add(r.get(200, TimeUnit.SECONDS)); // each fork ends within 180 s
            }
            pool.shutdown();
            long charged = server.totalTokens();
            long largest = server.requests().stream().mapToLong(r -> r.usage() == null ? 0 : r.usage().totalTokens())
                    .max().orElse(0);
            System.out.printf("4 JVMs x 8 threads, shared global budget of %,d tokens: %,d tokens answered in %d"
                    + " requests (%.2f %% of the cap; largest call %d)%n", CAP, charged, server.requestCount(),
                    100.0 * charged / CAP, largest);
            assertEquals(4, results.size());
            for (ForkedJvm.Result r : results) {
                assertEquals(0, r.exitCode(), r::toString);
                assertEquals(List.of(), r.lines("FAILED"), r::toString);
                List<String> refused = r.lines("REFUSED ");
                assertEquals(8, refused.size(), "every thread of every JVM ends refused: " + r);
                for (String line : refused) {
                    assertTrue(line.contains("Token budget 'default' exhausted for scope global"), line);
                }
                assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java 4.101.0",
                        ForkedJvm.GOVERNING_OKHTTP), r.agentLines(), r::toString);
            }
            assertTrue(charged >= CAP, "the budget was used up: " + charged);
            assertTrue(charged <= CAP + CAP / 10, "within 10 % of the cap: " + charged);
            assertEquals(charged, usedInStore("four"), "the store counted every token the server answered");
        }
        Map<String, Integer> warned = new TreeMap<>();
        int warnings = 0;
        for (Path dir : dirs) {
            for (JsonNode w : SessionLogs.read(dir.resolve("tokenguard-sessions")).of("budget_warning")) {
                warned.merge(w.path("threshold").asText(), 1, Integer::sum);
                warnings++;
            }
        }
        assertEquals(3, warnings, "each threshold once across the four JVMs: " + warned);
        assertEquals(Map.of("0.75", 1, "0.9", 1, "0.95", 1), warned);
    }

    @Test
    void storeStoppedAndRestartedMidRun() throws Exception {
        Path signals = Files.createDirectories(work.resolve("signals"));
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            Map<String, Future<ForkedJvm.Result>> runs = new TreeMap<>();
            for (String mode : List.of("local", "refuse")) {
                Path dir = Files.createDirectories(work.resolve(mode));
                runs.put(mode, pool.submit(() -> ForkedJvm.run(dir, agentArgs("outage", ",budget.max-tokens=1M"
                                + ",store.on-failure=" + mode), List.of(), withPassword(PASSWORD), APP,
                        server.baseUrl(), "phases", signals.toString(), "5", mode)));
            }
            awaitFiles(signals.resolve("local.1"), signals.resolve("refuse.1"));
            long beforeStop = server.totalTokens();
            assertEquals(beforeStop, usedInStore("outage"));
            redis.stop();
            Files.createFile(signals.resolve("stopped"));
            awaitFiles(signals.resolve("local.2"), signals.resolve("refuse.2"));
            redis.restart();
            Files.createFile(signals.resolve("restarted"));
            ForkedJvm.Result local = runs.get("local").get(200, TimeUnit.SECONDS);
            ForkedJvm.Result refuse = runs.get("refuse").get(200, TimeUnit.SECONDS);
            pool.shutdown();
            for (ForkedJvm.Result r : List.of(local, refuse)) {
                assertEquals(0, r.exitCode(), r::toString);
                assertEquals(List.of(), r.lines("FAILED"), r::toString);
                assertEquals(5, r.lines("PHASE1 OK").size(), r::toString);
                assertEquals(5, r.lines("PHASE3 OK").size(), r::toString);
                List<String> store = r.agentLines().stream().filter(l -> l.contains("budget store")).toList();
                assertEquals(2, store.size(), r::toString);
                assertTrue(store.get(0).contains("the budget store " + redis.url() + " cannot be reached"), store.get(0));
                assertTrue(store.get(1).contains("answers again"), store.get(1));
                for (String l : r.stdout()) {
                    assertFalse(l.contains(PASSWORD), l);
                }
                for (String l : r.stderr()) {
                    assertFalse(l.contains(PASSWORD), l);
                }
            }
            // local: the app saw no failure while the store was away
            assertEquals(5, local.lines("PHASE2 OK").size(), local::toString);
            // refuse: every call of the shared budget refused while the store was away, and said why
            List<String> refused = refuse.lines("PHASE2 REFUSED ");
            assertEquals(5, refused.size(), refuse::toString);
            for (String line : refused) {
                assertTrue(line.contains("the budget store cannot be reached; tokenguard.store.on-failure=refuse"),
                        line);
            }
            // nothing spent while the store was away is lost: the store holds what the server answered
            assertEquals(server.totalTokens(), usedInStore("outage"));
            assertEquals(25, server.requestCount(), "5 + 5 + 5 calls of the local JVM, 5 + 0 + 5 of the refusing"
                    + " one");
        }
    }

    @Test
    void aWrongPasswordIsOneClearLine() throws Exception {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            ForkedJvm.Result r = ForkedJvm.run(work, agentArgs("wrong-password", ",budget.max-tokens=1M"), List.of(),
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

    private static void awaitFiles(Path... files) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (Path f : files) {
            while (!Files.exists(f)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the scenario did not reach " + f.getFileName() + " within 120 s");
                }
                Thread.sleep(10);
            }
        }
    }
}
