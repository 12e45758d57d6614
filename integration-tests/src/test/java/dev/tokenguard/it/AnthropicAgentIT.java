package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.UsageMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built agent on a real -javaagent flag, governing the real anthropic-java against the fake Anthropic server. */
class AnthropicAgentIT {
    static final String APP = "dev.tokenguard.it.app.AnthropicScenarioApp";
    static final String VERSION = System.getProperty("tokenguard.anthropic.version");
    static final String GOVERNING = "[tokenguard] TokenGuard: governing anthropic-java ";
    static FakeAnthropicServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        server = FakeAnthropicServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void resetServer() {
        server.reset();
    }

    ForkedJvm.Result run(String agentArgs, String scenario, int calls) throws Exception {
        return ForkedJvm.run(work, agentArgs, List.of(), Map.of(), APP, scenario, server.baseUrl(),
                String.valueOf(calls));
    }

    ForkedJvm.Result runWith(Path jars, String agentArgs, String scenario, int calls) throws Exception {
        return ForkedJvm.runWithClassPath(work, agentArgs, List.of(), Map.of(),
                ForkedJvm.classPathWith("anthropic-java", jars), APP, scenario, server.baseUrl(),
                String.valueOf(calls));
    }

    SessionLogs logs() throws Exception {
        return SessionLogs.read(work.resolve("tokenguard-sessions"));
    }

    /** Per answered request, the total tokens the server reported, in order. */
    static List<Long> servedTotals() {
        return server.requests().stream().filter(RecordedRequest::answered).map(r -> r.usage().totalTokens()).toList();
    }

    /**
     * The server stopped exactly when the budget was exhausted, the app saw every served call and
     * three refusals of the bootstrap exception class, and the session log holds what the server served.
     */
    static void assertGovernedUpToTheLimit(ForkedJvm.Result result, SessionLogs logs, long limit, boolean streaming) {
        assertEquals(0, result.exitCode(), result::toString);
        List<Long> served = servedTotals();
        int k = served.size();
        assertTrue(k > 1, "several calls were served before the refusal: " + served + "\n" + result);
        long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = served.stream().mapToLong(Long::longValue).sum();
        assertTrue(before < limit && all >= limit, "the server must stop exactly when the budget is exhausted: "
                + served + "\n" + result);
        assertEquals(k, result.lines("OK ").size(), result::toString);
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        assertTrue(refused.get(0).startsWith("REFUSED dev.tokenguard.api.BudgetExhaustedException Token budget "
                + "'default' exhausted for scope thread:main#1: " + String.format(Locale.ROOT, "%,d", all) + " of "
                + String.format(Locale.ROOT, "%,d", limit) + " tokens used; refused anthropic chat claude-haiku-4-5"),
                refused.get(0));
        assertTrue(refused.get(0).endsWith("loader=null"), "the exception is the bootstrap class: " + refused.get(0));

        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(k, calls.size());
        assertEquals(server.totalInputTokens(), logs.sum("llm_call", "input_tokens"));
        assertEquals(server.totalOutputTokens(), logs.sum("llm_call", "output_tokens"));
        assertEquals(all, logs.sum("llm_call", "total_tokens"));
        for (JsonNode call : calls) {
            assertEquals("provider", call.get("usage_source").asText());
            assertEquals("anthropic", call.get("provider").asText());
            assertEquals("chat", call.get("operation").asText());
            assertEquals(streaming, call.get("streaming").asBoolean());
            assertEquals("ok", call.get("status").asText());
        }
        assertEquals(List.of(0.75, 0.9, 0.95), logs.of("budget_warning").stream()
                .map(w -> w.get("threshold").asDouble()).toList());
        assertEquals(3, logs.of("budget_exceeded").size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sync", "async", "stream", "async-stream", "beta", "beta-stream"})
    void refusesTheFirstCallAfterTheBudgetIsExhaustedAndLogsWhatTheServerServed(String scenario) throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=1200", scenario, 200);
        assertEquals(List.of(GOVERNING + VERSION, ForkedJvm.GOVERNING_OKHTTP), result.agentLines(), result::toString);
        assertGovernedUpToTheLimit(result, logs(), 1_200, scenario.contains("stream"));
        for (String ok : result.lines("OK ")) {
            if (scenario.equals("stream")) {
                assertTrue(ok.contains("messageDeltas=2"), "the app sees every event: " + ok);
            }
        }
    }

    @Test
    void countTokensIsNeverChargedNorRefused() throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=1", "count-tokens", 5);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(5, result.lines("OK ").size(), result::toString);
        assertEquals(5, server.countTokensRequests().size());
        assertEquals(0, server.requestCount());
        assertEquals(0, logs().of("llm_call").size());
    }

    @Test
    void aStreamClosedEarlyIsChargedTheReportedInputAndMarkedEstimated() throws Exception {
        ForkedJvm.Result result = run("", "stream-abandoned", 3);
        assertEquals(0, result.exitCode(), result::toString);
        List<JsonNode> calls = logs().of("llm_call");
        assertEquals(3, calls.size());
        assertEquals(3, server.requestCount());
        for (int i = 0; i < 3; i++) {
            assertEquals("estimated", calls.get(i).get("usage_source").asText());
        }
        assertEquals(server.totalInputTokens(), logs().sum("llm_call", "input_tokens"),
                "the input message_start reported");
    }

    @Test
    void theOldestSupportedAnthropicJavaIsGovernedToo() throws Exception {
        Path oldest = Path.of(System.getProperty("tokenguard.anthropic.oldest.dir"));
        String version = System.getProperty("tokenguard.anthropic.oldest.version");
        for (String scenario : List.of("stream", "sync")) {
            server.reset();
            Path dir = work.resolve(scenario);
            Files.createDirectories(dir);
            ForkedJvm.Result result = ForkedJvm.runWithClassPath(dir, "budget.max-tokens=900", List.of(), Map.of(),
                    ForkedJvm.classPathWith("anthropic-java", oldest), APP, scenario, server.baseUrl(), "200");
            assertEquals(List.of(GOVERNING + version, ForkedJvm.GOVERNING_OKHTTP), result.agentLines(),
                    result::toString);
            assertGovernedUpToTheLimit(result, SessionLogs.read(dir.resolve("tokenguard-sessions")), 900,
                    scenario.equals("stream"));
        }
    }

    @Test
    void aVersionBelowTheSupportedRangeIsLeftAloneWithOneLine() throws Exception {
        Path jars = Path.of(System.getProperty("tokenguard.anthropic.unsupported.dir"));
        String version = System.getProperty("tokenguard.anthropic.unsupported.version");
        ForkedJvm.Result result = runWith(jars, "budget.max-tokens=100", "sync", 4);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: anthropic-java " + version + " found but not supported"
                + " (supported versions are 2.0.0 up to (not including) 4); its calls are not governed",
                ForkedJvm.GOVERNING_OKHTTP),
                result.agentLines(), result::toString);
        assertEquals(4, result.lines("OK ").size(), "nothing is refused: the SDK is not governed");
        assertEquals(4, server.requestCount());
        assertEquals(0, logs().of("llm_call").size());
    }

    @Test
    void switchingThePluginOffLeavesTheSdkAlone() throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=100,instrumentation.anthropic-java.enabled=false", "sync", 4);
        assertEquals(0, result.exitCode(), result::toString);
        // the OkHttp layer is on, but this loopback host is no configured LLM endpoint, so it governs nothing here
        assertEquals(List.of(ForkedJvm.GOVERNING_OKHTTP), result.agentLines(), result::toString);
        assertEquals(4, result.lines("OK ").size());
        assertEquals(4, server.requestCount());
        assertEquals(0, logs().of("llm_call").size());
    }

    @Test
    void theApiKeyReachesNoSessionLogLine() throws Exception {
        ForkedJvm.Result result = run("session-log.capture-content=true", "stream", 3);
        assertEquals(0, result.exitCode(), result::toString);
        SessionLogs logs = logs();
        assertFalse(logs.files.isEmpty());
        List<String> lines = new ArrayList<>();
        for (Path file : logs.files) {
            lines.addAll(Files.readAllLines(file));
        }
        assertTrue(lines.size() >= 4, lines::toString);
        for (String line : lines) {
            assertFalse(line.contains("sk-ant-forked-secret-key-4711"), line);
        }
        assertTrue(server.requests().get(0).header("x-api-key") != null
                || server.requests().get(0).header("authorization") != null, "the key did go to the server");
    }

    @Test
    void withoutBudgetNotesEveryRequestIsByteForByteWhatTheAppBuilt() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (String scenario : List.of("sync", "stream", "beta")) {
            ForkedJvm.Result plain = ForkedJvm.run(work, null, List.of(), Map.of(), APP, scenario, server.baseUrl(), "3");
            assertEquals(0, plain.exitCode(), plain::toString);
        }
        server.requests().forEach(r -> bodies.add(r.body()));
        assertEquals(9, bodies.size());
        server.reset();
        for (String scenario : List.of("sync", "stream", "beta")) {
            ForkedJvm.Result governed = run("budget.max-tokens=1000000", scenario, 3);
            assertEquals(0, governed.exitCode(), governed::toString);
        }
        assertEquals(bodies, server.requests().stream().map(RecordedRequest::body).toList());
        assertEquals(9, logs().of("llm_call").size(), "the governed run was governed");
    }

    @Test
    void aServerThatSendsNoReadableUsageIsChargedEstimatesAndReportedOnce() throws Exception {
        server.setUsageMode(UsageMode.RENAMED);
        // a stream: the app reads no usage itself (the SDK would throw on reading a renamed field)
        ForkedJvm.Result result = run("", "stream", 3);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(GOVERNING + VERSION, ForkedJvm.GOVERNING_OKHTTP,
                "[tokenguard] TokenGuard: anthropic-java: a response's usage could"
                + " not be read (no input token count); such calls are charged a local estimate, marked usage_source"
                + " estimated"), result.agentLines(), result::toString);
        List<JsonNode> calls = logs().of("llm_call");
        assertEquals(3, calls.size());
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("total_tokens").asLong() > 0, call.toString());
        }
    }

    @Test
    void theSampleAppWithProviderAnthropicWarnsThenRefuses() throws Exception {
        Path sampleJar = Path.of(System.getProperty("tokenguard.sample.jar")).toAbsolutePath();
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(work, "budget.max-tokens=900", List.of(), Map.of(),
                sampleJar.toString(), "dev.tokenguard.sample.SampleApp", "--provider", "anthropic");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing anthropic-java", ForkedJvm.GOVERNING_OKHTTP),
                result.agentLines());
        assertTrue(result.stdout().stream().anyMatch(l -> l.startsWith("refused: Token budget 'default' exhausted "
                + "for scope thread:main#1") && l.endsWith("refused anthropic chat claude-haiku-4-5")), result::toString);
        SessionLogs logs = logs();
        assertEquals(List.of(0.75, 0.9, 0.95), logs.of("budget_warning").stream()
                .map(w -> w.get("threshold").asDouble()).toList());
        assertEquals(1, logs.of("budget_exceeded").size());
        assertEquals(List.of("anthropic"), logs.of("llm_call").stream().map(c -> c.get("provider").asText())
                .distinct().toList());
    }
}
