package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.scenarios.GovernedRunOracle;
import dev.tokenguard.sample.scenarios.Ollama4jScenarios;
import dev.tokenguard.sample.stub.FakeOllamaServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag, governing the real ollama4j (on the JDK's {@code HttpClient}) against
 * the fake Ollama server. The server's own URL is also listed in {@code tokenguard.http.endpoints}, so the raw-HTTP
 * layer governs every request to it that no SDK layer owns: the counts below prove that ollama4j's requests are
 * charged once, by the SDK layer, while a request the app sends itself on the same JDK client is the HTTP layer's.
 */
class Ollama4jAgentIT {
    static final String APP = "dev.tokenguard.it.app.Ollama4jScenarioApp";
    static final String VERSION = System.getProperty("tokenguard.ollama4j.version");
    static final String GOVERNING = "[tokenguard] TokenGuard: governing ollama4j ";
    static final String GOVERNING_JDK = "[tokenguard] TokenGuard: governing jdk-http-client "
            + AzureOpenAiAgentIT.jdkVersion();
    static FakeOllamaServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        server = FakeOllamaServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void resetServer() {
        server.reset();
    }

    ForkedJvm.Result run(Path dir, String classPath, String agentArgs, String scenario, int calls) throws Exception {
        List<String> options = List.of("-Dtokenguard.http.endpoints=" + server.baseUrl() + "=ollama",
                "-Dlogback.configurationFile=" + Path.of(Ollama4jAgentIT.class.getResource("/quiet-logback.xml")
                        .toURI()));
        return ForkedJvm.runWithClassPath(dir, agentArgs, options, Map.of(), classPath, APP, scenario,
                server.baseUrl(), String.valueOf(calls));
    }

    /** The application class path with the oldest supported ollama4j in place of the newest. */
    static String classPathWithOldest() throws Exception {
        Path dir = Path.of(System.getProperty("tokenguard.ollama4j.oldest.dir"));
        String classPath = ForkedJvm.classPathWith("ollama4j-", dir);
        List<String> ollama4j = new ArrayList<>();
        for (String entry : classPath.split(File.pathSeparator)) {
            if (Path.of(entry).getFileName().toString().startsWith("ollama4j-")) {
                ollama4j.add(entry);
            }
        }
        assertEquals(1, ollama4j.size(), ollama4j::toString);
        assertTrue(ollama4j.get(0).startsWith(dir.toString()), ollama4j::toString);
        return classPath;
    }

    /** Both plugins announce themselves: ollama4j's, and the JDK client's that ollama4j sends on. */
    static void assertStartUpLines(ForkedJvm.Result result, String version) {
        assertEquals(Set.of(GOVERNING + version, GOVERNING_JDK), Set.copyOf(result.agentLines()), result::toString);
        assertEquals(2, result.agentLines().size(), result::toString);
    }

    void assertRefusedAtTheLimit(ForkedJvm.Result result, Path dir, long limit, boolean streaming)
            throws Exception {
        assertEquals(0, result.exitCode(), result::toString);
        GovernedRunOracle.assertRefusedExactlyAtTheLimit(result.stdout(), dir.resolve("tokenguard-sessions"),
                server.requests(), server.totalInputTokens(), server.totalOutputTokens(),
                new GovernedRunOracle.Expected(limit, "ollama", Ollama4jScenarios.MODEL, streaming, true));
        for (RecordedRequest request : server.requests()) {
            assertEquals("/api/chat", request.path());
            assertEquals(streaming, request.body().contains("\"stream\":true"), request.body());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "stream"})
    void refusesTheFirstCallAfterTheBudgetIsExhaustedAndLogsWhatTheServerServed(String scenario) throws Exception {
        ForkedJvm.Result result = run(work, ForkedJvm.applicationClassPath(), "budget.max-tokens=1200", scenario,
                200);
        assertStartUpLines(result, VERSION);
        assertRefusedAtTheLimit(result, work, 1_200, scenario.equals("stream"));
    }

    @Test
    void theOldestSupportedVersionIsGovernedToo() throws Exception {
        ForkedJvm.Result result = run(work, classPathWithOldest(), "budget.max-tokens=900", "stream", 200);
        assertStartUpLines(result, System.getProperty("tokenguard.ollama4j.oldest.version"));
        assertRefusedAtTheLimit(result, work, 900, true);
    }

    /**
     * Chat, streamed chat, generate, embeddings, a chat with a tool (two requests; not on the oldest, which cannot
     * read the fake server's tool calls, see {@link Ollama4jScenarios}) and the app's own request on the JDK client,
     * twice over, on the newest and the oldest: each request is charged once, with the server's counts.
     */
    @ParameterizedTest
    @ValueSource(strings = {"newest", "oldest"})
    void everyKindOfRequestIsChargedOnceWithTheServersCounts(String which) throws Exception {
        boolean oldest = which.equals("oldest");
        ForkedJvm.Result result = run(work, oldest ? classPathWithOldest() : ForkedJvm.applicationClassPath(), "",
                oldest ? "all-but-tools" : "all", 2);
        assertEquals(0, result.exitCode(), result::toString);
        assertStartUpLines(result, oldest ? System.getProperty("tokenguard.ollama4j.oldest.version") : VERSION);
        List<String> ok = result.lines("OK ");
        assertEquals(2, ok.size(), result::toString);
        for (String line : ok) {
            assertTrue(line.contains(oldest ? "no tools" : "toolRuns=1") && line.contains("embeddings=2")
                    && line.endsWith("own=200"), line);
        }
        int requests = 2 * (oldest ? Ollama4jScenarios.REQUESTS_PER_ALL_BUT_TOOLS : Ollama4jScenarios.REQUESTS_PER_ALL);
        List<JsonNode> calls = SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call");
        assertEquals(requests, server.requestCount());
        assertEquals(requests, calls.size(), calls::toString);
        List<String> paths = oldest ? List.of("/api/chat", "/api/chat", "/api/generate", "/api/embed", "/api/chat")
                : List.of("/api/chat", "/api/chat", "/api/generate", "/api/embed", "/api/chat", "/api/chat",
                "/api/chat");
        for (int i = 0; i < requests; i++) {
            RecordedRequest served = server.requests().get(i);
            JsonNode call = calls.get(i);
            assertEquals(paths.get(i % paths.size()), served.path(), served.toString());
            boolean embed = served.path().equals("/api/embed");
            assertEquals(served.usage().inputTokens(), call.get("input_tokens").asLong(), call.toString());
            assertEquals(embed ? 0 : served.usage().outputTokens(), call.get("output_tokens").asLong(),
                    call.toString());
            assertEquals(embed ? "embeddings" : served.path().equals("/api/chat") ? "chat" : "text_completion",
                    call.get("operation").asText());
            assertEquals("ollama", call.get("provider").asText());
            assertEquals("provider", call.get("usage_source").asText(), call.toString());
            assertEquals("ok", call.get("status").asText());
            assertTrue(call.get("cost_usd").isNull(), call.toString());
        }
        assertEquals(server.totalTokens(), calls.stream().mapToLong(c -> c.get("total_tokens").asLong()).sum());
    }

    /** With the plugin off, the HTTP layer charges ollama4j's requests to the listed server instead: still once. */
    @Test
    void switchedOffTheSdksRequestsAreTheHttpLayersOnceEach() throws Exception {
        ForkedJvm.Result off = run(work, ForkedJvm.applicationClassPath(), "instrumentation.ollama4j.enabled=false",
                "stream", 3);
        assertEquals(0, off.exitCode(), off::toString);
        assertEquals(List.of(GOVERNING_JDK), off.agentLines(), off::toString);
        assertEquals(3, off.lines("OK ").size());
        List<JsonNode> calls = SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call");
        assertEquals(3, server.requestCount());
        assertEquals(3, calls.size(), calls::toString);
        for (int i = 0; i < 3; i++) {
            assertEquals(server.requests().get(i).usage().totalTokens(), calls.get(i).get("total_tokens").asLong());
            assertTrue(calls.get(i).get("streaming").asBoolean());
        }
    }
}
