package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.scenarios.GoogleGenAiScenarios;
import dev.tokenguard.sample.scenarios.GovernedRunOracle;
import dev.tokenguard.sample.stub.FakeGeminiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag, governing the real Google GenAI SDK (on its OkHttp client), oldest
 * and newest supported version, against the fake Gemini server. The server's own URL is also listed in
 * {@code tokenguard.http.endpoints}, so the OkHttp layer would govern the SDK's requests if it could see them as
 * its own: the counts below prove that only the SDK layer charges them (and, with the plugin off, the OkHttp layer
 * instead, still once each).
 */
class GoogleGenAiAgentIT {
    static final String APP = "dev.tokenguard.it.app.GoogleGenAiScenarioApp";
    static final String VERSION = System.getProperty("tokenguard.genai.version");
    static final String GOVERNING = "[tokenguard] TokenGuard: governing google-genai ";
    static FakeGeminiServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        server = FakeGeminiServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void resetServer() {
        server.reset();
    }

    static List<String> jvmOptions() {
        return List.of("-Dtokenguard.http.endpoints=" + server.rootUrl() + "=gcp.gemini");
    }

    ForkedJvm.Result run(Path dir, String classPath, String agentArgs, String... scenarios) throws Exception {
        String[] args = new String[scenarios.length + 1];
        args[0] = server.rootUrl();
        System.arraycopy(scenarios, 0, args, 1, scenarios.length);
        return ForkedJvm.runWithClassPath(dir, agentArgs, jvmOptions(), Map.of(), classPath, APP, args);
    }

    static String classPath(String version) throws Exception {
        if (version.equals(VERSION)) {
            return ForkedJvm.applicationClassPath();
        }
        String classPath = ForkedJvm.classPathWith("google-genai", Path.of(System.getProperty(
                "tokenguard.genai.oldest.dir")));
        assertTrue(classPath.contains("google-genai-" + version + ".jar"), classPath);
        return classPath;
    }

    SessionLogs logs(Path dir) throws Exception {
        return SessionLogs.read(dir.resolve("tokenguard-sessions"));
    }

    /** The agent's lines: the SDK's, and OkHttp's (the SDK's HTTP client, whose classes the okhttp plugin hooks). */
    static void assertAgentLines(ForkedJvm.Result result, String version) {
        assertEquals(Set.of(GOVERNING + version, ForkedJvm.GOVERNING_OKHTTP), Set.copyOf(result.agentLines()),
                result::toString);
        assertEquals(2, result.agentLines().size(), result::toString);
    }

    /**
     * Under a budget, the first call after the budget is exhausted is refused before it is sent, on the oldest and
     * the newest version, blocking, async and streamed; the log holds exactly what the server served.
     */
    @ParameterizedTest
    @CsvSource({"newest, sync", "newest, async-stream", "oldest, async", "oldest, stream"})
    void refusesTheFirstCallAfterTheBudgetIsExhaustedAndLogsWhatTheServerServed(String which, String scenario)
            throws Exception {
        String version = which.equals("newest") ? VERSION : System.getProperty("tokenguard.genai.oldest.version");
        ForkedJvm.Result result = run(work, classPath(version), "budget.max-tokens=1500,session-log.capture-content=true",
                scenario, "200");
        assertEquals(0, result.exitCode(), result::toString);
        assertAgentLines(result, version);
        boolean streaming = scenario.contains("stream");
        GovernedRunOracle.assertRefusedExactlyAtTheLimit(result.stdout(), work.resolve("tokenguard-sessions"),
                server.requests(), server.totalInputTokens(), server.totalOutputTokens(),
                new GovernedRunOracle.Expected(1_500, "gcp.gemini", GoogleGenAiScenarios.MODEL, streaming, true,
                        "generate_content"));
        for (RecordedRequest request : server.requests()) {
            assertTrue(request.path().endsWith("/models/" + GoogleGenAiScenarios.MODEL
                    + (streaming ? ":streamGenerateContent" : ":generateContent")), request.path());
            assertEquals(GoogleGenAiScenarios.API_KEY, request.header("x-goog-api-key"), "the key was sent");
        }
        for (Path file : logs(work).files) {
            for (String line : Files.readAllLines(file)) {
                assertFalse(line.contains(GoogleGenAiScenarios.API_KEY), line);
            }
        }
        if (streaming) {
            // the app saw, in the last chunk, the totals the call was charged
            List<String> ok = result.lines("OK ");
            List<JsonNode> calls = logs(work).of("llm_call");
            assertEquals(ok.size(), calls.size());
            long seen = 0;
            for (String line : ok) {
                String[] parts = line.split(" ");
                assertTrue(parts[3].startsWith("chunks=") && Integer.parseInt(parts[3].substring(7)) > 1, line);
                seen += Long.parseLong(parts[1]) + Long.parseLong(parts[2]);
            }
            assertEquals(server.totalTokens(), seen);
        }
    }

    /**
     * Embeddings, automatic function calling (each round trip one charge, on the blocking and the async client),
     * token counting (never charged), Vertex AI and a mix of every kind of call, in one JVM without a budget: every
     * request the server saw is one {@code llm_call} with the server's counts, and nothing else is.
     */
    @Test
    void everyKindOfCallIsChargedOncePerRequestAndTokenCountingNever() throws Exception {
        ForkedJvm.Result result = run(work, ForkedJvm.applicationClassPath(), "", "embeddings", "4", "afc", "2",
                "count-tokens", "4", "vertex", "4", "mixed", "6");
        assertEquals(0, result.exitCode(), result::toString);
        assertAgentLines(result, VERSION);
        assertEquals(20, result.lines("OK ").size(), result::toString);
        // embeddings 4, afc 2 x 2 round trips, vertex 4, mixed 5 (its sixth call counts tokens)
        int expected = 4 + 4 + 4 + 5;
        assertEquals(expected, server.requestCount());
        assertEquals(5, server.countTokensRequests().size());
        List<JsonNode> calls = logs(work).of("llm_call");
        assertEquals(expected, calls.size(), calls::toString);
        assertEquals(server.totalInputTokens(), logs(work).sum("llm_call", "input_tokens"));
        assertEquals(server.totalOutputTokens(), logs(work).sum("llm_call", "output_tokens"));
        long vertex = calls.stream().filter(c -> c.get("provider").asText().equals("gcp.vertex_ai")).count();
        long vertexServed = server.requests().stream().filter(r -> r.path().contains("/publishers/google/models/"))
                .count();
        assertEquals(4, vertexServed);
        assertEquals(vertexServed, vertex);
        long embeddings = calls.stream().filter(c -> c.get("operation").asText().equals("embeddings")).count();
        assertEquals(server.requests().stream().filter(r -> r.path().endsWith(":batchEmbedContents")).count(),
                embeddings);
        for (JsonNode call : calls) {
            assertEquals("provider", call.get("usage_source").asText(), call.toString());
            assertEquals("ok", call.get("status").asText(), call.toString());
        }
        assertTrue(logs(work).of("budget_exceeded").isEmpty());
    }

    /**
     * With the plugin off the SDK is left alone, and its requests, to a URL listed in
     * {@code tokenguard.http.endpoints}, fall to the OkHttp layer: still one charge per request.
     */
    @Test
    void withThePluginOffTheOkHttpLayerChargesEachRequestOnce() throws Exception {
        ForkedJvm.Result off = run(work, ForkedJvm.applicationClassPath(), "instrumentation.google-genai.enabled=false",
                "mixed", "6");
        assertEquals(0, off.exitCode(), off::toString);
        assertEquals(List.of(ForkedJvm.GOVERNING_OKHTTP), off.agentLines(), off::toString);
        assertEquals(6, off.lines("OK ").size());
        assertEquals(5, server.requestCount());
        List<JsonNode> calls = logs(work).of("llm_call");
        assertEquals(5, calls.size(), calls::toString);
        assertEquals(server.totalTokens(), logs(work).sum("llm_call", "total_tokens"));
    }
}
