package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.scenarios.AzureOpenAiScenarios;
import dev.tokenguard.sample.scenarios.GovernedRunOracle;
import dev.tokenguard.sample.scenarios.ScenarioRunner;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.UsageMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag, governing the real azure-ai-openai (on azure-core's default Netty
 * client) against the fake OpenAI server's Azure OpenAI paths. The server's own URL is also listed in
 * {@code tokenguard.http.endpoints}, so the raw-HTTP layer would govern those requests if it could see them: the
 * counts below prove that only the SDK layer charges them.
 */
class AzureOpenAiAgentIT {
    static final String APP = "dev.tokenguard.it.app.AzureOpenAiScenarioApp";
    static final String VERSION = System.getProperty("tokenguard.azure.openai.version");
    static final String GOVERNING = "[tokenguard] TokenGuard: governing azure-ai-openai ";
    static FakeOpenAiServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void resetServer() {
        server.reset();
    }

    /** The server listed as an LLM endpoint of the HTTP layer too; the SDK's own logging at WARN. */
    static List<String> jvmOptions() throws Exception {
        return List.of("-Dtokenguard.http.endpoints=" + server.azureEndpoint() + "=azure.ai.openai",
                "-Dlogback.configurationFile=" + Path.of(AzureOpenAiAgentIT.class.getResource("/quiet-logback.xml")
                        .toURI()));
    }

    ForkedJvm.Result run(Path dir, String classPath, String agentArgs, String scenario, int calls) throws Exception {
        return ForkedJvm.runWithClassPath(dir, agentArgs, jvmOptions(), Map.of(), classPath, APP, scenario,
                server.azureEndpoint(), String.valueOf(calls));
    }

    /** The application class path with azure-ai-openai, azure-core and its Netty client from {@code jarDir}. */
    static String classPathWithOldest(Path jarDir) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : ForkedJvm.applicationClassPath().split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (!name.startsWith("azure-ai-openai") && !name.startsWith("azure-core")) {
                entries.add(entry);
            }
        }
        try (var jars = Files.list(jarDir)) {
            jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> entries.add(p.toString()));
        }
        assertEquals(3, entries.stream().filter(e -> e.startsWith(jarDir.toString())).count(), entries::toString);
        return String.join(File.pathSeparator, entries);
    }

    SessionLogs logs(Path dir) throws Exception {
        return SessionLogs.read(dir.resolve("tokenguard-sessions"));
    }

    static void assertGovernedUpToTheLimit(ForkedJvm.Result result, Path dir, long limit, boolean streaming)
            throws Exception {
        assertEquals(0, result.exitCode(), result::toString);
        GovernedRunOracle.assertRefusedExactlyAtTheLimit(result.stdout(), dir.resolve("tokenguard-sessions"),
                server.requests(), server.totalInputTokens(), server.totalOutputTokens(),
                new GovernedRunOracle.Expected(limit, "azure.ai.openai", AzureOpenAiScenarios.DEPLOYMENT, streaming,
                        true));
        for (RecordedRequest request : server.requests()) {
            assertTrue(request.path().startsWith("/openai/deployments/" + AzureOpenAiScenarios.DEPLOYMENT + "/"),
                    request.path());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sync", "async", "stream", "async-stream"})
    void refusesTheFirstCallAfterTheBudgetIsExhaustedAndLogsWhatTheServerServed(String scenario) throws Exception {
        ForkedJvm.Result result = run(work, ForkedJvm.applicationClassPath(),
                "budget.max-tokens=1200,session-log.capture-content=true", scenario, 200);
        assertEquals(List.of(GOVERNING + VERSION), result.agentLines(), result::toString);
        if (scenario.contains("stream")) {
            assertStreamsGovernedUpToTheLimit(result, work, 1_200);
        } else {
            assertGovernedUpToTheLimit(result, work, 1_200, false);
        }
        SessionLogs logs = logs(work);
        assertFalse(logs.files.isEmpty());
        for (Path file : logs.files) {
            for (String line : Files.readAllLines(file)) {
                assertFalse(line.contains(AzureOpenAiScenarios.API_KEY), line);
            }
        }
        assertEquals(AzureOpenAiScenarios.API_KEY, server.requests().get(0).header("api-key"), "the key was sent");
        if (scenario.contains("stream")) {
            List<String> ok = result.lines("OK ");
            assertFalse(ok.isEmpty());
            for (String line : ok) {
                assertTrue(line.endsWith(" withUsage=0"), "the usage chunk the agent asked for is hidden: " + line);
            }
        }
    }

    /**
     * Streams that do not ask for usage, to the loopback server (no Azure host, so not known to send usage only when
     * asked): the first goes out as the app built it and is charged a local estimate; it teaches the agent that the
     * server sends no usage unasked, so every later one asks, hides the chunk and is charged the server's counts. The
     * budget refuses the first call after the charged total reached the limit.
     */
    static void assertStreamsGovernedUpToTheLimit(ForkedJvm.Result result, Path dir, long limit) throws Exception {
        assertEquals(0, result.exitCode(), result::toString);
        List<RecordedRequest> served = server.requests().stream().filter(RecordedRequest::answered).toList();
        int k = served.size();
        assertTrue(k > 2, "several streams were served before the refusal: " + result);
        assertFalse(served.get(0).body().contains("include_usage"), "the first stream went out as the app built it: "
                + served.get(0).body());
        for (RecordedRequest request : served.subList(1, k)) {
            assertTrue(request.body().contains("\"include_usage\":true"), request.body());
        }
        List<JsonNode> calls = SessionLogs.read(dir.resolve("tokenguard-sessions")).of("llm_call");
        assertEquals(k, calls.size(), calls::toString);
        assertEquals("estimated", calls.get(0).get("usage_source").asText(), calls.get(0).toString());
        long charged = calls.get(0).get("total_tokens").asLong();
        long before = 0;
        for (int i = 1; i < k; i++) {
            JsonNode call = calls.get(i);
            assertEquals("provider", call.get("usage_source").asText(), call.toString());
            assertEquals(served.get(i).usage().totalTokens(), call.get("total_tokens").asLong(), call.toString());
            before = charged;
            charged += call.get("total_tokens").asLong();
        }
        for (JsonNode call : calls) {
            assertEquals("azure.ai.openai", call.get("provider").asText());
            assertTrue(call.get("streaming").asBoolean(), call.toString());
            assertEquals("ok", call.get("status").asText(), call.toString());
        }
        assertTrue(before < limit && charged >= limit, "refused exactly once the charged total reached " + limit
                + ": " + before + " then " + charged);
        assertEquals(k, result.lines("OK ").size(), result::toString);
        List<String> refused = result.lines("REFUSED ");
        assertEquals(1 + ScenarioRunner.EXTRA_TRIES_AFTER_REFUSAL, refused.size(), result::toString);
        assertTrue(refused.get(0).contains(": " + String.format(Locale.ROOT, "%,d", charged) + " of "
                + String.format(Locale.ROOT, "%,d", limit) + " tokens used; refused azure.ai.openai chat "
                + AzureOpenAiScenarios.DEPLOYMENT), refused.get(0));
    }

    /**
     * The oldest beta's blocking and async calls. Its stream parser requires {@code usage} in every chunk and so
     * fails on OpenAI's chunks, with the agent or without it (fixed in 1.0.0-beta.2); streams are tested on the
     * newest.
     */
    @Test
    void theOldestSupportedVersionIsGovernedToo() throws Exception {
        Path oldest = Path.of(System.getProperty("tokenguard.azure.openai.oldest.dir"));
        String version = System.getProperty("tokenguard.azure.openai.oldest.version");
        String classPath = classPathWithOldest(oldest);
        for (String scenario : List.of("sync", "async")) {
            server.reset();
            Path dir = work.resolve(scenario);
            Files.createDirectories(dir);
            ForkedJvm.Result result = run(dir, classPath, "budget.max-tokens=900", scenario, 200);
            assertEquals(List.of(GOVERNING + version), result.agentLines(), result::toString);
            assertGovernedUpToTheLimit(result, dir, 900, false);
        }
    }

    @Test
    void embeddingsAreChargedTheirInputAndAServerWithoutUsageIsChargedEstimates() throws Exception {
        ForkedJvm.Result result = run(work, ForkedJvm.applicationClassPath(), "", "embeddings", 4);
        assertEquals(0, result.exitCode(), result::toString);
        List<JsonNode> calls = logs(work).of("llm_call");
        assertEquals(4, calls.size());
        assertEquals(4, server.requestCount());
        for (int i = 0; i < 4; i++) {
            assertEquals("embeddings", calls.get(i).get("operation").asText());
            assertEquals(server.requests().get(i).usage().inputTokens(), calls.get(i).get("input_tokens").asLong());
            assertEquals("provider", calls.get(i).get("usage_source").asText());
        }

        server.reset();
        server.setUsageMode(UsageMode.ABSENT);
        Path dir = work.resolve("absent");
        Files.createDirectories(dir);
        ForkedJvm.Result absent = run(dir, ForkedJvm.applicationClassPath(), "", "stream", 3);
        assertEquals(0, absent.exitCode(), absent::toString);
        assertEquals(List.of(GOVERNING + VERSION), absent.agentLines(), absent::toString);
        List<JsonNode> estimated = logs(dir).of("llm_call");
        assertEquals(3, estimated.size());
        assertEquals(3, server.requestCount());
        for (JsonNode call : estimated) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0 && call.get("output_tokens").asLong() > 0,
                    call.toString());
        }
    }

    /**
     * azure-core on the JDK's HttpClient, which the HTTP layer instruments, with the server listed as an HTTP
     * endpoint: each of the SDK's requests (blocking on the calling thread, async on the client's own threads) is
     * charged once, by the SDK layer; the request the app sends itself on the JDK client is the HTTP layer's.
     */
    @Test
    void onTheJdkHttpClientTheHttpLayerChargesOnlyTheAppsOwnRequests() throws Exception {
        ForkedJvm.Result result = run(work, ForkedJvm.applicationClassPath(), "", "all-on-jdk-http-client", 2);
        assertEquals(0, result.exitCode(), result::toString);
        // the JDK client is built before the SDK's client, so its line may come first
        assertEquals(Set.of(GOVERNING + VERSION, "[tokenguard] TokenGuard: governing jdk-http-client " + jdkVersion()),
                Set.copyOf(result.agentLines()), result::toString);
        assertEquals(2, result.agentLines().size(), result::toString);
        assertEquals(2, result.lines("OK ").size(), result::toString);
        List<JsonNode> calls = logs(work).of("llm_call");
        assertEquals(12, server.requestCount());
        assertEquals(12, calls.size(), calls::toString);
        for (int i = 0; i < 12; i++) {
            RecordedRequest served = server.requests().get(i);
            JsonNode call = calls.get(i);
            if (i == 1) {
                // the SDK's first stream to the loopback server (no Azure host) went out as the app built it
                assertFalse(served.body().contains("include_usage"), served.body());
                assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            } else {
                assertEquals(served.usage().inputTokens(), call.get("input_tokens").asLong(), call.toString());
                assertEquals("provider", call.get("usage_source").asText(), call.toString());
            }
            assertEquals("azure.ai.openai", call.get("provider").asText());
            boolean own = i % 6 == 5;
            assertEquals(own, !served.header("user-agent").contains("azsdk-java-azure-ai-openai/"),
                    served.header("user-agent"));
        }
        assertEquals(server.totalTokens() - server.requests().get(1).usage().totalTokens()
                + calls.get(1).get("total_tokens").asLong(), logs(work).sum("llm_call", "total_tokens"));
    }

    static String jdkVersion() {
        StringBuilder version = new StringBuilder();
        for (Integer part : Runtime.version().version()) {
            version.append(version.length() == 0 ? "" : ".").append(part);
        }
        return version.toString();
    }

    @Test
    void switchingThePluginOffLeavesTheSdkAlone() throws Exception {
        ForkedJvm.Result off = run(work, ForkedJvm.applicationClassPath(),
                "budget.max-tokens=100,instrumentation.azure-ai-openai.enabled=false", "sync", 4);
        assertEquals(0, off.exitCode(), off::toString);
        assertEquals(List.of(), off.agentLines(), off::toString);
        assertEquals(4, off.lines("OK ").size());
        assertEquals(4, server.requestCount());
        assertEquals(0, logs(work).of("llm_call").size());
        assertEquals(AzureOpenAiScenarios.API_KEY, server.requests().get(0).header("api-key"));
    }
}
