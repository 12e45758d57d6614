package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.scenarios.AnthropicScenarios;
import dev.tokenguard.sample.scenarios.GovernedRunOracle;
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

    /** The shared oracle of a run under a budget, for the real agent jar (the refusal class is the bootstrap one). */
    static void assertGovernedUpToTheLimit(ForkedJvm.Result result, Path sessionDir, long limit, boolean streaming)
            throws Exception {
        assertEquals(0, result.exitCode(), result::toString);
        GovernedRunOracle.assertRefusedExactlyAtTheLimit(result.stdout(), sessionDir, server.requests(),
                server.totalInputTokens(), server.totalOutputTokens(),
                new GovernedRunOracle.Expected(limit, "anthropic", AnthropicScenarios.MODEL, streaming, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sync", "async", "stream", "async-stream", "beta", "beta-stream"})
    void refusesTheFirstCallAfterTheBudgetIsExhaustedAndLogsWhatTheServerServed(String scenario) throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=1200", scenario, 200);
        assertEquals(List.of(GOVERNING + VERSION, ForkedJvm.GOVERNING_OKHTTP), result.agentLines(), result::toString);
        assertGovernedUpToTheLimit(result, work.resolve("tokenguard-sessions"), 1_200, scenario.contains("stream"));
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
            assertGovernedUpToTheLimit(result, dir.resolve("tokenguard-sessions"), 900, scenario.equals("stream"));
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
            assertFalse(line.contains(AnthropicScenarios.API_KEY), line);
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
        // the main thread's id is 1 on Java 17 and 3 on Java 25
        assertTrue(result.stdout().stream().map(l -> l.replaceFirst("thread:main#\\d+", "thread:main#<id>"))
                .anyMatch(l -> l.startsWith("refused: Token budget 'default' exhausted for scope thread:main#<id>")
                        && l.endsWith("refused anthropic chat claude-haiku-4-5")), result::toString);
        SessionLogs logs = logs();
        assertEquals(List.of(0.75, 0.9, 0.95), logs.of("budget_warning").stream()
                .map(w -> w.get("threshold").asDouble()).toList());
        assertEquals(1, logs.of("budget_exceeded").size());
        assertEquals(List.of("anthropic"), logs.of("llm_call").stream().map(c -> c.get("provider").asText())
                .distinct().toList());
    }
}
