package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag, governing plain {@code java.net.http.HttpClient} calls to the
 * fake OpenAI and Anthropic servers, which the agent is told about through {@code tokenguard.http.endpoints}.
 */
class JdkHttpClientAgentIT {
    static final String APP = "dev.tokenguard.it.app.JdkHttpScenarioApp";
    static FakeOpenAiServer openai;
    static FakeAnthropicServer anthropic;

    @TempDir
    Path work;

    @BeforeAll
    static void startServers() {
        openai = FakeOpenAiServer.start();
        anthropic = FakeAnthropicServer.start();
    }

    @AfterAll
    static void stopServers() {
        openai.close();
        anthropic.close();
    }

    @BeforeEach
    void resetServers() {
        openai.reset();
        anthropic.reset();
    }

    /** The JDK running the forked JVMs, as the start-up line names it, e.g. {@code 17.0.15}. */
    static String jdkVersion() {
        return Runtime.version().version().stream().map(String::valueOf).collect(Collectors.joining("."));
    }

    static boolean isAnthropic(String scenario) {
        return scenario.startsWith("messages");
    }

    ForkedJvm.Result run(String agentArgs, String scenario, int calls) throws Exception {
        String endpoints = "-Dtokenguard.http.endpoints=" + openai.baseUrl() + "=openai," + anthropic.baseUrl()
                + "=anthropic";
        return ForkedJvm.run(work, agentArgs, agentArgs == null ? List.of() : List.of(endpoints), Map.of(), APP,
                scenario, isAnthropic(scenario) ? anthropic.baseUrl() : openai.baseUrl(), String.valueOf(calls));
    }

    SessionLogs logs() throws Exception {
        return SessionLogs.read(work.resolve("tokenguard-sessions"));
    }

    static List<RecordedRequest> served(String scenario) {
        return (isAnthropic(scenario) ? anthropic.requests() : openai.requests()).stream()
                .filter(RecordedRequest::answered).toList();
    }

    static int requestCount(String scenario) {
        return isAnthropic(scenario) ? anthropic.requestCount() : openai.requestCount();
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "chat-async", "chat-async-push", "stream-lines", "stream-usage-lines",
            "stream-input", "stream-async-string", "embeddings", "messages", "messages-stream", "messages-async-stream"})
    void chargesWhatTheServerServedAndRefusesBeforeSendingOnceTheBudgetIsExhausted(String scenario) throws Exception {
        long limit = 600;
        ForkedJvm.Result result = run("budget.max-tokens=" + limit, scenario, 200);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing jdk-http-client " + jdkVersion()), result.agentLines(),
                result::toString);

        // what each answer counted: the server's usage; for the first stream that did not ask (the agent's probe of
        // an endpoint not known yet, see HttpScenarioRuns.probes) the estimate it was charged
        SessionLogs logs = logs();
        List<Long> served = HttpScenarioRuns.budgetTotals(served(scenario), logs.of("llm_call"));
        int k = served.size();
        assertTrue(k > 1, "several calls were served before the refusal: " + served + "\n" + result);
        assertEquals(k, requestCount(scenario), "nothing was sent after the refusal");
        long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = served.stream().mapToLong(Long::longValue).sum();
        assertTrue(before < limit && all >= limit, "the server stopped exactly when the budget was exhausted: "
                + served + "\n" + result);
        assertEquals(k, result.lines("OK ").size(), result::toString);
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        String model = isAnthropic(scenario) ? "anthropic chat claude-haiku-4-5"
                : scenario.equals("embeddings") ? "openai embeddings text-embedding-3-small" : "openai chat gpt-4o-mini";
        // the main thread's id differs between JDK releases (1 on 17, 3 on 25)
        assertTrue(refused.get(0).matches(Pattern.quote("REFUSED dev.tokenguard.api.BudgetExhaustedException Token "
                + "budget 'default' exhausted for scope thread:main#") + "\\d+" + Pattern.quote(": "
                + String.format(Locale.ROOT, "%,d", all) + " of " + String.format(Locale.ROOT, "%,d", limit)
                + " tokens used; refused " + model + " loader=null")), refused.get(0));

        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(k, calls.size(), result::toString);
        List<RecordedRequest> reported = served(scenario).stream().filter(RecordedRequest::usageReported).toList();
        List<JsonNode> exact = calls.stream().filter(c -> c.get("usage_source").asText().equals("provider")).toList();
        assertEquals(reported.size(), exact.size(), calls::toString);
        assertEquals(reported.stream().mapToLong(r -> r.usage().inputTokens()).sum(),
                exact.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(reported.stream().mapToLong(r -> r.usage().outputTokens()).sum(),
                exact.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        assertEquals(all, logs.sum("llm_call", "total_tokens"));
        for (JsonNode call : calls) {
            assertEquals(isAnthropic(scenario) ? "anthropic" : "openai", call.get("provider").asText());
            assertEquals(scenario.equals("embeddings") ? "embeddings" : "chat", call.get("operation").asText());
            assertEquals(scenario.contains("stream"), call.get("streaming").asBoolean(), call::toString);
            assertEquals("ok", call.get("status").asText());
        }
        assertEquals(3, logs.of("budget_exceeded").size());
        assertFalse(String.join("\n", result.stdout()).contains("sk-secret"));
        assertFalse(String.join("\n", result.stderr()).contains("sk-"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "chat-async", "stream-lines", "stream-usage-lines", "stream-input",
            "stream-async-string", "embeddings", "messages", "messages-stream", "messages-async-stream"})
    void theAppReadsExactlyWhatItReadsWithoutTheAgent(String scenario) throws Exception {
        ForkedJvm.Result bare = run(null, scenario, 4);
        assertEquals(0, bare.exitCode(), bare::toString);
        assertEquals(4, bare.lines("OK ").size(), bare::toString);
        assertEquals(List.of(), bare.agentLines());
        resetServers();

        ForkedJvm.Result governed = run("", scenario, 4);
        assertEquals(0, governed.exitCode(), governed::toString);
        assertEquals(bare.lines("OK "), governed.lines("OK "), governed::toString);
        assertEquals(4, logs().of("llm_call").size(), governed::toString);
        assertEquals(4, requestCount(scenario));
    }

    @Test
    void asksForStreamUsageOnTheWireWhenTheAppDidNotOnceTheEndpointIsKnown() throws Exception {
        ForkedJvm.Result result = run("", "stream-lines", 2);
        assertEquals(0, result.exitCode(), result::toString);
        List<RecordedRequest> requests = openai.requests();
        assertEquals(2, requests.size());
        // the first stream to an endpoint not known yet goes out as the app built it, and teaches the agent that the
        // server reports usage only when asked; the second is sent asking
        HttpScenarioRuns.assertTheFirstStreamProbedAndTheOthersAsked(requests);
        assertTrue(requests.get(1).body().contains("\"include_usage\":true"), requests.get(1)::toString);
        for (RecordedRequest request : requests) {
            assertTrue(request.body().startsWith("{\"model\":\"gpt-4o-mini\""), request::toString);
        }
    }

    @Test
    void anAgentAttachedToARunningJvmGovernsTheClientClassesAlreadyLoaded() throws Exception {
        List<String> args = List.of("attach-late", openai.baseUrl(), "100", ForkedJvm.AGENT_JAR.toString(),
                "budget.max-tokens=600");
        ForkedJvm.Result result = ForkedJvm.run(work, null, List.of("-Djdk.attach.allowAttachSelf=true",
                "-XX:+EnableDynamicAgentLoading", "-Dtokenguard.http.endpoints=" + openai.baseUrl() + "=openai"),
                Map.of(), APP, args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing jdk-http-client " + jdkVersion()), result.agentLines(),
                result::toString);
        assertEquals(1, result.lines("BEFORE ").size());
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);
        int governed = result.lines("OK ").size();
        assertTrue(governed > 1, result::toString);
        SessionLogs logs = logs();
        assertEquals(governed, logs.of("llm_call").size(), "every call after the attach is governed");
        assertEquals(governed + 1, openai.requestCount(), "nothing was sent after the refusal");
        long first = openai.requests().get(0).usage().totalTokens();
        assertEquals(openai.totalInputTokens() + openai.totalOutputTokens() - first,
                logs.sum("llm_call", "total_tokens"));
    }
}
