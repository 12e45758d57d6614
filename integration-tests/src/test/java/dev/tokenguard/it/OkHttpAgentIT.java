package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag governing plain OkHttp calls to the fake OpenAI and
 * Anthropic servers (configured as {@code tokenguard.http.endpoints}), and the rule across layers
 * with openai-java, which runs on OkHttp: each physical request is charged exactly once.
 */
class OkHttpAgentIT {
    static final String APP = "dev.tokenguard.it.app.OkHttpScenarioApp";
    static final String OPENAI_APP = "dev.tokenguard.it.app.ScenarioApp";
    static final String GOVERNING_OKHTTP = "[tokenguard] TokenGuard: governing okhttp";
    static FakeOpenAiServer openAi;
    static FakeAnthropicServer anthropic;

    @TempDir
    Path work;

    @BeforeAll
    static void startServers() {
        openAi = FakeOpenAiServer.start();
        anthropic = FakeAnthropicServer.start();
    }

    @AfterAll
    static void stopServers() {
        openAi.close();
        anthropic.close();
    }

    @BeforeEach
    void resetServers() {
        openAi.reset();
        anthropic.reset();
    }

    static boolean isAnthropic(String scenario) {
        return scenario.contains("messages");
    }

    static List<String> endpoints() {
        return List.of("-Dtokenguard.http.endpoints=" + openAi.baseUrl() + "=openai," + anthropic.baseUrl()
                + "=anthropic");
    }

    ForkedJvm.Result run(Path dir, String agentArgs, String app, String scenario, String baseUrl, int calls)
            throws Exception {
        return run(dir, agentArgs, ForkedJvm.applicationClassPath(), app, scenario, baseUrl, calls);
    }

    ForkedJvm.Result run(Path dir, String agentArgs, String classPath, String app, String scenario, String baseUrl,
                         int calls) throws Exception {
        Files.createDirectories(dir);
        return ForkedJvm.runWithClassPath(dir, agentArgs, agentArgs == null ? List.of() : endpoints(), Map.of(),
                classPath, app, scenario, baseUrl, String.valueOf(calls));
    }

    /** The application class path with OkHttp, Okio and the Kotlin runtime replaced by the jars in {@code dir}. */
    static String classPathWithOkHttp(Path dir) throws Exception {
        List<String> entries = new ArrayList<>();
        for (String entry : ForkedJvm.applicationClassPath().split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (!name.startsWith("okhttp-") && !name.startsWith("okio") && !name.startsWith("kotlin-stdlib")) {
                entries.add(entry);
            }
        }
        int added = 0;
        try (var jars = Files.list(dir)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                entries.add(jar.toString());
                added++;
            }
        }
        assertEquals(3, added, "OkHttp, Okio and kotlin-stdlib in " + dir);
        return String.join(File.pathSeparator, entries);
    }

    static int requestCount(String scenario) {
        return isAnthropic(scenario) ? anthropic.requestCount() : openAi.requestCount();
    }

    String baseUrl(String scenario) {
        return isAnthropic(scenario) ? anthropic.baseUrl() : openAi.baseUrl();
    }

    /**
     * Each physical request charged once: with the server's own usage where it reported one, a local estimate for the
     * OpenAI chat stream that went out as the app built it to learn the endpoint's habit (see
     * {@link HttpScenarioRuns#probes}).
     */
    static void assertOneChargePerRequest(String scenario, SessionLogs logs) {
        List<JsonNode> calls = logs.of("llm_call");
        List<RecordedRequest> served = isAnthropic(scenario) ? anthropic.requests() : openAi.requests();
        assertEquals(requestCount(scenario), calls.size());
        List<RecordedRequest> reported = served.stream().filter(RecordedRequest::usageReported).toList();
        assertEquals(HttpScenarioRuns.probes(served), served.stream().filter(r -> !r.usageReported()).toList(),
                "only a probing stream reports no usage");
        List<JsonNode> exact = calls.stream().filter(c -> c.get("usage_source").asText().equals("provider")).toList();
        assertEquals(reported.size(), exact.size(), calls::toString);
        assertEquals(reported.stream().mapToLong(r -> r.usage().inputTokens()).sum(),
                exact.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(reported.stream().mapToLong(r -> r.usage().outputTokens()).sum(),
                exact.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        for (JsonNode call : calls) {
            assertEquals("ok", call.get("status").asText(), call.toString());
            assertEquals(isAnthropic(scenario) ? "anthropic" : "openai", call.get("provider").asText());
            assertEquals(scenario.contains("stream"), call.get("streaming").asBoolean(), call.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "chat-stream", "chat-stream-usage", "embeddings", "messages", "messages-stream",
            "async-chat", "async-chat-stream", "async-chat-stream-usage", "async-embeddings", "async-messages",
            "async-messages-stream"})
    void eachRequestIsChargedOnceAndTheAppReadsWhatItReadsWithoutTheAgent(String scenario) throws Exception {
        int calls = 4;
        ForkedJvm.Result plain = run(work.resolve("plain"), null, APP, scenario, baseUrl(scenario), calls);
        assertEquals(0, plain.exitCode(), plain::toString);
        List<String> readWithout = plain.lines("OK ");
        assertEquals(calls, readWithout.size(), plain::toString);
        resetServers();

        ForkedJvm.Result governed = run(work.resolve("governed"), "budget.max-tokens=1000000", APP, scenario,
                baseUrl(scenario), calls);
        assertEquals(0, governed.exitCode(), governed::toString);
        assertEquals(List.of(GOVERNING_OKHTTP), governed.agentLines(), governed::toString);
        assertEquals(readWithout, governed.lines("OK "), "the app reads exactly the bytes it reads without the agent");
        assertEquals(calls, requestCount(scenario));
        SessionLogs logs = SessionLogs.read(work.resolve("governed").resolve("tokenguard-sessions"));
        assertOneChargePerRequest(scenario, logs);
        if (scenario.endsWith("chat-stream")) {
            // the first stream to the fake server went out as the app built it and taught the agent to ask
            HttpScenarioRuns.assertTheFirstStreamProbedAndTheOthersAsked(openAi.requests());
        }
        for (Path f : Files.list(work.resolve("governed").resolve("tokenguard-sessions")).toList()) {
            assertFalse(Files.readString(f).contains("secret-4711"), "no API key in the log");
        }
    }

    /** The oldest and newest supported OkHttp, each with its own Okio and Kotlin runtime. */
    @ParameterizedTest
    @CsvSource({"oldest,chat-stream", "oldest,async-messages-stream", "oldest,async-chat", "oldest,embeddings",
            "newest,chat-stream", "newest,async-messages-stream", "newest,async-chat", "newest,messages"})
    void theOldestAndNewestOkHttpAreGovernedAlike(String which, String scenario) throws Exception {
        String version = System.getProperty("tokenguard.okhttp." + which + ".version");
        String classPath = classPathWithOkHttp(Path.of(System.getProperty("tokenguard.okhttp." + which + ".dir")));
        int calls = 3;
        ForkedJvm.Result plain = run(work.resolve("plain"), null, classPath, APP, scenario, baseUrl(scenario), calls);
        assertEquals(0, plain.exitCode(), plain::toString);
        assertEquals(List.of("OKHTTP " + version), plain.lines("OKHTTP "), plain::toString);
        assertEquals(calls, plain.lines("OK ").size(), plain::toString);
        resetServers();

        ForkedJvm.Result governed = run(work.resolve("governed"), "budget.max-tokens=1000000", classPath, APP,
                scenario, baseUrl(scenario), calls);
        assertEquals(0, governed.exitCode(), governed::toString);
        assertEquals(List.of("OKHTTP " + version), governed.lines("OKHTTP "), governed::toString);
        assertEquals(List.of(GOVERNING_OKHTTP), governed.agentLines(), governed::toString);
        assertEquals(plain.lines("OK "), governed.lines("OK "), "the app reads exactly the bytes it reads without the agent");
        assertEquals(calls, requestCount(scenario));
        assertOneChargePerRequest(scenario, SessionLogs.read(work.resolve("governed").resolve("tokenguard-sessions")));
    }

    @ParameterizedTest
    @CsvSource({"default,chat", "default,async-chat-stream", "default,messages-stream", "default,async-messages",
            "oldest,async-chat-stream", "newest,async-chat-stream", "newest,chat"})
    void anExhaustedBudgetRefusesBeforeSending(String which, String scenario) throws Exception {
        long limit = 1_200;
        String classPath = which.equals("default") ? ForkedJvm.applicationClassPath()
                : classPathWithOkHttp(Path.of(System.getProperty("tokenguard.okhttp." + which + ".dir")));
        ForkedJvm.Result result = run(work, "budget.max-tokens=" + limit, classPath, APP, scenario, baseUrl(scenario),
                200);
        assertEquals(0, result.exitCode(), result::toString);
        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        // the server's usage per answer; the estimate charged for a probing stream (the only figure the agent had)
        List<Long> served = HttpScenarioRuns.budgetTotals(
                isAnthropic(scenario) ? anthropic.requests() : openAi.requests(), logs.of("llm_call"));
        int k = served.size();
        assertTrue(k > 1, "several calls were served before the refusal: " + served + "\n" + result);
        long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = served.stream().mapToLong(Long::longValue).sum();
        assertTrue(before < limit && all >= limit, "the server stops exactly when the budget is exhausted: "
                + served + "\n" + result);
        assertEquals(k, requestCount(scenario), "nothing is sent after the refusal");
        assertEquals(k, result.lines("OK ").size(), result::toString);
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        for (String r : refused) {
            assertTrue(r.startsWith("REFUSED dev.tokenguard.api.BudgetExhaustedException Token budget 'default'"), r);
        }
        assertOneChargePerRequest(scenario, logs);
        assertEquals(all, logs.sum("llm_call", "total_tokens"));
        assertEquals(3, logs.of("budget_exceeded").size());
    }

    /** openai-java runs on OkHttp: whichever layer governs, each physical request is charged once. */
    @ParameterizedTest
    @ValueSource(strings = {"sync", "stream", "async", "async-stream", "embeddings"})
    void openAiJavaOverOkHttpIsChargedOnceByWhicheverLayerIsOn(String scenario) throws Exception {
        int calls = 3;
        ForkedJvm.Result both = run(work.resolve("both"), "budget.max-tokens=1000000", OPENAI_APP, scenario,
                openAi.baseUrl(), calls);
        assertEquals(0, both.exitCode(), both::toString);
        assertEquals(calls, both.lines("OK ").size(), both::toString);
        assertTrue(both.agentLines().stream().anyMatch(l -> l.startsWith("[tokenguard] TokenGuard: governing openai-java")),
                both::toString);
        SessionLogs bothLogs = SessionLogs.read(work.resolve("both").resolve("tokenguard-sessions"));
        assertEquals(calls, openAi.requestCount());
        List<JsonNode> charged = bothLogs.of("llm_call");
        assertEquals(openAi.requestCount(), charged.size(), "one charge per request, by the SDK layer");
        // the SDK layer's first chat stream to an endpoint not known yet goes out as the app built it (it learns that
        // the server sends usage only when asked) and is charged a local estimate; every other request what was served
        boolean learning = scenario.contains("stream");
        List<RecordedRequest> answered = openAi.requests().stream().filter(r -> !learning || r.usageReported()).toList();
        List<JsonNode> exact = charged.stream().filter(c -> c.get("usage_source").asText().equals("provider")).toList();
        assertEquals(learning ? calls - 1 : calls, answered.size(), openAi.requests()::toString);
        assertEquals(answered.size(), exact.size(), charged::toString);
        assertEquals(answered.stream().mapToLong(r -> r.usage().inputTokens()).sum(),
                exact.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(answered.stream().mapToLong(r -> r.usage().outputTokens()).sum(),
                exact.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());

        resetServers();
        ForkedJvm.Result httpOnly = run(work.resolve("http-only"),
                "budget.max-tokens=1000000,instrumentation.openai-java.enabled=false", OPENAI_APP, scenario,
                openAi.baseUrl(), calls);
        assertEquals(0, httpOnly.exitCode(), httpOnly::toString);
        assertEquals(both.lines("OK "), httpOnly.lines("OK "), "the app sees the same answers under either layer");
        assertEquals(List.of(GOVERNING_OKHTTP), httpOnly.agentLines(), httpOnly::toString);
        SessionLogs httpLogs = SessionLogs.read(work.resolve("http-only").resolve("tokenguard-sessions"));
        assertEquals(calls, openAi.requestCount());
        assertOneChargePerRequest(scenario.equals("sync") || scenario.equals("async") ? "chat"
                : scenario.contains("stream") ? "chat-stream" : scenario, httpLogs);
    }
}
