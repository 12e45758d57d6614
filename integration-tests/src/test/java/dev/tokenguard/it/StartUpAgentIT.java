package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's start-up runs beside the application's: {@code premain} returns at once, and the
 * configuration, the instrumentation and the budget engine are set up on a daemon thread. A call
 * that reaches an instrumented method before they are ready waits for them and is governed; a wrong
 * configuration still disables the agent with one line while the application runs.
 */
class StartUpAgentIT {
    static final String APP = JdkHttpClientAgentIT.APP;
    static FakeOpenAiServer openai;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        openai = FakeOpenAiServer.start();
    }

    @AfterAll
    static void stopServer() {
        openai.close();
    }

    ForkedJvm.Result run(String name, String agentArgs, List<String> jvmOptions, int calls) throws Exception {
        openai.reset();
        Path dir = Files.createDirectories(work.resolve(name));
        List<String> options = new java.util.ArrayList<>(jvmOptions);
        options.add("-Dtokenguard.http.endpoints=" + openai.baseUrl() + "=openai");
        return ForkedJvm.run(dir, agentArgs, options, Map.of(), APP, "chat", openai.baseUrl(), String.valueOf(calls));
    }

    @Test
    void aCallArrivingBeforeTheStartUpIsDoneWaitsForItAndIsGoverned() throws Exception {
        long limit = 600;
        // the start-up thread builds the transformer, then holds until the app's first call waits for the budgets
        Path classLog = Files.createDirectories(work.resolve("classes")).resolve("class-load.txt");
        ForkedJvm.Result result = run("held", "budget.max-tokens=" + limit,
                List.of("-Dtokenguard.internal.start-hold=call", "-Xlog:class+load:file=" + classLog), 200);
        assertEquals(0, result.exitCode(), result::toString);
        // no "no call waited" line: the first call did wait for the start-up
        assertEquals(List.of("[tokenguard] TokenGuard: governing jdk-http-client "
                + JdkHttpClientAgentIT.jdkVersion()), result.agentLines(), result::toString);

        List<Long> served = openai.requests().stream().filter(RecordedRequest::answered)
                .map(r -> r.usage().totalTokens()).toList();
        int k = served.size();
        assertTrue(k > 1, "several calls were served before the refusal: " + served + "\n" + result);
        assertEquals(k, openai.requestCount(), "nothing was sent after the refusal");
        long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = served.stream().mapToLong(Long::longValue).sum();
        assertTrue(before < limit && all >= limit, "the server stopped exactly when the budget was exhausted: "
                + served + "\n" + result);
        assertEquals(k, result.lines("OK ").size(), result::toString);
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);

        // every served call, the first (the one that waited) included, is charged and logged
        SessionLogs logs = SessionLogs.read(work.resolve("held").resolve("tokenguard-sessions"));
        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(k, calls.size(), result::toString);
        assertEquals(all, logs.sum("llm_call", "total_tokens"));
        assertEquals(served.get(0).longValue(), calls.get(0).get("total_tokens").asLong(), calls.get(0)::toString);

        // only the SDK in use gets its call site made: the plugins of the SDKs that are not there load none of
        // their call-site classes, and with no OTLP endpoint set no OpenTelemetry class loads
        List<String> loaded = Files.readAllLines(classLog);
        assertTrue(loaded.stream().anyMatch(
                l -> l.contains(" dev.tokenguard.instrumentation.jdkhttp.JdkHttpCallSite ")),
                "the call site of the SDK in use was made");
        List<String> absent = List.of("stainless.StainlessCallSite", "springai.SpringAiCallSite",
                "bedrock.BedrockCallSite", "ollama.OllamaCallSite", "ollama.ResponseLineSite",
                "ollama.RefusalUnwrapping", "azure.AzureOpenAiCallSite", "genai.GoogleGenAiCallSite",
                "langchain4j.RetryLoopCallSite", "apachehttp.ApacheHttpCallSite", "okhttp.OkHttpCallSite");
        assertEquals(11, absent.size());
        for (String name : absent) {
            assertFalse(loaded.stream().anyMatch(l -> l.contains(" dev.tokenguard.instrumentation." + name + " ")),
                    name + " was loaded though its SDK is not there");
        }
        assertFalse(loaded.stream().anyMatch(l -> l.contains(" dev.tokenguard.shaded.io.opentelemetry.")),
                "no OpenTelemetry class of the agent's");
    }

    @Test
    void aWrongConfigurationFoundOnTheStartUpThreadStillGivesOneLineAndTheAppRuns() throws Exception {
        ForkedJvm.Result result = run("wrong", "budget.max-tokens=lots", List.of(), 4);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(1, result.agentLines().size(), result::toString);
        String line = result.agentLines().get(0).replaceFirst("^\\[tokenguard\\] ", "");
        assertTrue(line.startsWith("TokenGuard: invalid value 'lots' for tokenguard.budget.max-tokens (from agent"
                + " argument)"), line);
        assertTrue(line.endsWith("; TokenGuard is disabled, the application runs uninstrumented"), line);
        assertEquals(4, result.lines("OK ").size(), result::toString);
        assertEquals(4, openai.requests().stream().filter(RecordedRequest::answered).count());
        assertFalse(Files.exists(work.resolve("wrong").resolve("tokenguard-sessions")), "uninstrumented: no session log");
    }
}
