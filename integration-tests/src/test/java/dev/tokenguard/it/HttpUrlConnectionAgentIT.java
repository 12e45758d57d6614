package dev.tokenguard.it;

import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static dev.tokenguard.it.HttpScenarioRuns.blocks;
import static dev.tokenguard.it.HttpScenarioRuns.startingWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag governing the JDK's {@code HttpURLConnection} calls to the fake
 * OpenAI and Anthropic servers (configured as {@code tokenguard.http.endpoints}). Each forked JVM runs every
 * scenario, each on a thread of its own.
 */
class HttpUrlConnectionAgentIT {
    static final String APP = "dev.tokenguard.it.app.HttpUrlConnectionScenarioApp";
    static final List<String> SCENARIOS = List.of("chat", "chat-input", "chat-fixed", "chat-stream",
            "chat-stream-usage", "embeddings", "messages", "messages-stream");
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

    /** The JDK running the forked JVMs, as the start-up line names it, e.g. {@code 17.0.15}. */
    static String jdkVersion() {
        return Runtime.version().version().stream().map(String::valueOf).collect(Collectors.joining("."));
    }

    ForkedJvm.Result run(Path dir, String agentArgs, List<String> scenarios, int calls) throws Exception {
        Files.createDirectories(dir);
        List<String> options = agentArgs == null ? List.of() : List.of("-Dtokenguard.http.endpoints="
                + openAi.baseUrl() + "=openai," + anthropic.baseUrl() + "=anthropic");
        ForkedJvm.Result result = ForkedJvm.run(dir, agentArgs, options, Map.of(), APP, openAi.baseUrl(),
                anthropic.baseUrl(), String.valueOf(calls), String.join(",", scenarios));
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(scenarios, List.copyOf(blocks(result).keySet()), result::toString);
        return result;
    }

    @Test
    void eachRequestIsChargedOnceAndTheAppReadsWhatItReadsWithoutTheAgent() throws Exception {
        int calls = 3;
        ForkedJvm.Result plain = run(work.resolve("plain"), null, SCENARIOS, calls);
        assertEquals(List.of(), plain.agentLines());
        resetServers();

        ForkedJvm.Result governed = run(work.resolve("governed"), "budget.max-tokens=1000000", SCENARIOS, calls);
        assertEquals(List.of("[tokenguard] TokenGuard: governing http-url-connection " + jdkVersion()),
                governed.agentLines(), governed::toString);
        Map<String, List<String>> read = blocks(governed);
        assertEquals(blocks(plain), read, "the app reads exactly the bytes it reads without the agent");
        Map<String, Integer> sent = new LinkedHashMap<>();
        for (String s : SCENARIOS) {
            assertEquals(calls, startingWith(read.get(s), "OK ").size(), governed::toString);
            sent.put(s, calls);
        }
        Map<String, List<RecordedRequest>> requests = HttpScenarioRuns.requestsByScenario(SCENARIOS, sent, openAi,
                anthropic);
        Path sessions = work.resolve("governed").resolve("tokenguard-sessions");
        HttpScenarioRuns.assertOneChargePerRequest(requests, SessionLogs.read(sessions));
        // the first stream to the fake server went out as the app built it and taught the agent to ask from then on
        HttpScenarioRuns.assertTheFirstStreamProbedAndTheOthersAsked(requests.get("chat-stream"));
        HttpScenarioRuns.assertNoSecrets(sessions, governed);
    }

    @Test
    void anExhaustedBudgetRefusesBeforeSendingOncePerCall() throws Exception {
        long limit = 1_200;
        List<String> scenarios = List.of("chat", "chat-input", "chat-fixed", "chat-stream", "messages-stream");
        ForkedJvm.Result result = run(work, "budget.max-tokens=" + limit, scenarios, 200);
        Map<String, List<String>> blocks = blocks(result);
        Map<String, Integer> sent = new LinkedHashMap<>();
        for (String s : scenarios) {
            sent.put(s, startingWith(blocks.get(s), "OK ").size());
        }
        Map<String, List<RecordedRequest>> requests = HttpScenarioRuns.requestsByScenario(scenarios, sent, openAi,
                anthropic);
        HttpScenarioRuns.assertRefusedAtTheLimit(result, limit, blocks, requests,
                SessionLogs.read(work.resolve("tokenguard-sessions")));
    }

    @Test
    void switchedOffThePluginLeavesTheClientAlone() throws Exception {
        ForkedJvm.Result result = run(work,
                "budget.max-tokens=1000000,instrumentation.http-url-connection.enabled=false",
                List.of("chat", "messages-stream"), 2);
        assertEquals(List.of(), result.agentLines(), result::toString);
        assertEquals(2, openAi.requestCount());
        assertEquals(2, anthropic.requestCount());
        assertEquals(4, result.lines("OK ").size(), result::toString);
        assertEquals(List.of(), SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call"));
    }
}
