package dev.tokenguard.it;

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

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.tokenguard.it.HttpScenarioRuns.blocks;
import static dev.tokenguard.it.HttpScenarioRuns.startingWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag governing plain Apache HttpClient 5 (classic) calls to the fake
 * OpenAI and Anthropic servers (configured as {@code tokenguard.http.endpoints}), on the newest and the oldest
 * HttpClient 5 the plugin supports. Each forked JVM runs every scenario, each on a thread of its own.
 */
class ApacheHttpClientAgentIT {
    static final String APP = "dev.tokenguard.it.app.ApacheHttpClientScenarioApp";
    static final List<String> SCENARIOS = List.of("chat", "chat-handler", "chat-minimal", "chat-stream",
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

    static String version(String which) {
        return System.getProperty(which.equals("oldest") ? "tokenguard.httpclient5.oldest.version"
                : "tokenguard.httpclient5.version");
    }

    /** The application class path, with HttpClient and HttpCore replaced by the oldest supported ones. */
    static String classPath(String which) throws Exception {
        if (!which.equals("oldest")) {
            return ForkedJvm.applicationClassPath();
        }
        List<String> entries = new ArrayList<>();
        for (String entry : ForkedJvm.applicationClassPath().split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (!name.startsWith("httpclient5-") && !name.startsWith("httpcore5-")) {
                entries.add(entry);
            }
        }
        int added = 0;
        try (var jars = Files.list(Path.of(System.getProperty("tokenguard.httpclient5.oldest.dir")))) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                entries.add(jar.toString());
                added++;
            }
        }
        assertEquals(3, added, "httpclient5, httpcore5 and httpcore5-h2");
        return String.join(File.pathSeparator, entries);
    }

    ForkedJvm.Result run(Path dir, String agentArgs, String which, List<String> scenarios, int calls)
            throws Exception {
        Files.createDirectories(dir);
        List<String> options = agentArgs == null ? List.of() : List.of("-Dtokenguard.http.endpoints="
                + openAi.baseUrl() + "=openai," + anthropic.baseUrl() + "=anthropic");
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(dir, agentArgs, options, Map.of(), classPath(which), APP,
                openAi.baseUrl(), anthropic.baseUrl(), String.valueOf(calls), String.join(",", scenarios));
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("HTTPCLIENT " + version(which)), result.lines("HTTPCLIENT "), result::toString);
        assertEquals(scenarios, List.copyOf(blocks(result).keySet()), result::toString);
        return result;
    }

    @ParameterizedTest
    @ValueSource(strings = {"newest", "oldest"})
    void eachRequestIsChargedOnceAndTheAppReadsWhatItReadsWithoutTheAgent(String which) throws Exception {
        int calls = 3;
        ForkedJvm.Result plain = run(work.resolve("plain"), null, which, SCENARIOS, calls);
        assertEquals(List.of(), plain.agentLines());
        resetServers();

        ForkedJvm.Result governed = run(work.resolve("governed"), "budget.max-tokens=1000000", which, SCENARIOS,
                calls);
        assertEquals(List.of("[tokenguard] TokenGuard: governing apache-httpclient5 " + version(which)),
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

    @ParameterizedTest
    @ValueSource(strings = {"newest", "oldest"})
    void anExhaustedBudgetRefusesBeforeSendingOncePerCall(String which) throws Exception {
        long limit = 1_200;
        List<String> scenarios = List.of("chat", "chat-handler", "chat-stream", "messages-stream");
        ForkedJvm.Result result = run(work, "budget.max-tokens=" + limit, which, scenarios, 200);
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
                "budget.max-tokens=1000000,instrumentation.apache-httpclient5.enabled=false", "newest",
                List.of("chat", "messages-stream"), 2);
        assertEquals(List.of(), result.agentLines(), result::toString);
        assertEquals(2, openAi.requestCount());
        assertEquals(2, anthropic.requestCount());
        assertEquals(4, result.lines("OK ").size(), result::toString);
        assertEquals(List.of(), SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call"));
    }
}
