package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterEach;
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
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built agent on a real -javaagent flag, governing the real openai-java against the fake server. */
class OpenAiAgentIT {
    static final String APP = "dev.tokenguard.it.app.ScenarioApp";
    static final Set<String> EXPECTED_AGENT_LINES = Set.of("[tokenguard] TokenGuard: governing openai-java 4.101.0");

    @TempDir
    Path work;
    FakeOpenAiServer server;

    @BeforeEach
    void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    ForkedJvm.Result run(String agentArgs, String scenario, int calls, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of(scenario, server.baseUrl(), String.valueOf(calls)));
        args.addAll(List.of(more));
        return ForkedJvm.run(work, agentArgs, List.of(), Map.of(), APP, args.toArray(String[]::new));
    }

    SessionLogs logs() throws Exception {
        return SessionLogs.read(work.resolve("tokenguard-sessions"));
    }

    static void assertOnlyExpectedAgentLines(ForkedJvm.Result result) {
        for (String line : result.agentLines()) {
            assertTrue(EXPECTED_AGENT_LINES.contains(line), "unexpected agent line: " + line + "\n" + result);
        }
    }

    /** Per request, total tokens the server reported, in order. */
    List<Long> servedTotals() {
        return server.requests().stream().filter(r -> r.usage() != null).map(r -> r.usage().totalTokens()).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sync", "async", "stream", "async-stream", "responses", "responses-stream"})
    void refusesTheFirstCallAfterTheBudgetIsExhaustedAndLogsWhatTheServerServed(String scenario) throws Exception {
        long limit = 1_200;
        ForkedJvm.Result result = run("budget.max-tokens=" + limit, scenario, 200);

        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        List<Long> served = servedTotals();
        int k = served.size();
        long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = served.stream().mapToLong(Long::longValue).sum();
        assertTrue(before < limit && all >= limit,
                "the server must stop exactly when the budget is exhausted: " + served + "\n" + result);
        assertEquals(k, result.lines("OK ").size(), result::toString);
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        assertTrue(refused.get(0).startsWith("REFUSED dev.tokenguard.api.BudgetExhaustedException Token budget "
                + "'default' exhausted for scope thread:main#1: " + String.format(java.util.Locale.ROOT, "%,d", all) + " of 1,200 tokens used; "
                + "refused openai chat gpt-4o-mini"), refused.get(0));
        assertTrue(refused.get(0).endsWith("loader=null"), "the exception is the bootstrap class: " + refused.get(0));

        SessionLogs logs = logs();
        assertEquals(k, logs.of("llm_call").size());
        assertEquals(server.totalInputTokens(), logs.sum("llm_call", "input_tokens"));
        assertEquals(server.totalOutputTokens(), logs.sum("llm_call", "output_tokens"));
        assertEquals(all, logs.sum("llm_call", "total_tokens"));
        for (JsonNode call : logs.of("llm_call")) {
            assertEquals("provider", call.get("usage_source").asText());
            assertEquals("openai", call.get("provider").asText());
            assertEquals("gpt-4o-mini", call.get("request_model").asText());
            assertEquals(scenario.contains("stream"), call.get("streaming").asBoolean());
            assertEquals("ok", call.get("status").asText());
        }
        List<Double> thresholds = logs.of("budget_warning").stream().map(w -> w.get("threshold").asDouble()).toList();
        assertEquals(List.of(0.75, 0.9, 0.95), thresholds);
        assertEquals(3, logs.of("budget_exceeded").size());
        JsonNode end = logs.of("session_end").get(0);
        assertEquals("thread_end", end.get("reason").asText(), "main has ended when the JVM shuts down");
        assertEquals(all, end.get("total_tokens").asLong());
    }

    @Test
    void streamingWithoutIncludeUsageIsChargedExactlyAndTheAppSeesNoUsageChunk() throws Exception {
        ForkedJvm.Result result = run("", "stream", 5);
        assertEquals(0, result.exitCode(), result::toString);
        for (String line : result.lines("OK ")) {
            assertTrue(line.contains("usageChunks=0 emptyChoiceChunks=0"), line);
        }
        server.requests().forEach(r -> assertTrue(r.usageReported(), "the agent asks for the usage chunk"));
        SessionLogs logs = logs();
        assertEquals(server.totalInputTokens() + server.totalOutputTokens(), logs.sum("llm_call", "total_tokens"));
    }

    @Test
    void streamingThatAsksForUsageStillSeesTheUsageChunk() throws Exception {
        ForkedJvm.Result result = run("", "stream-with-usage", 3);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(3, result.lines("OK ").size());
        for (String line : result.lines("OK ")) {
            assertTrue(line.contains("usageChunks=1 emptyChoiceChunks=1"), line);
        }
        assertEquals(server.totalInputTokens() + server.totalOutputTokens(), logs().sum("llm_call", "total_tokens"));
    }

    @Test
    void anAbandonedStreamIsChargedWithAnEstimate() throws Exception {
        ForkedJvm.Result result = run("", "stream-abandoned", 2);
        assertEquals(0, result.exitCode(), result::toString);
        List<JsonNode> calls = logs().of("llm_call");
        assertEquals(2, calls.size());
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
        }
    }

    @Test
    void embeddingsAreChargedTheirInputTokens() throws Exception {
        ForkedJvm.Result result = run("", "embeddings", 4);
        assertEquals(0, result.exitCode(), result::toString);
        SessionLogs logs = logs();
        assertEquals(4, logs.of("llm_call").size());
        assertEquals(server.totalInputTokens(), logs.sum("llm_call", "input_tokens"));
        assertEquals("embeddings", logs.of("llm_call").get(0).get("operation").asText());
    }

    @Test
    void eightThreadsGetEightSessionsWithExactTotals() throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=1000000", "threads", 25, "8");
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        assertEquals(200, server.requestCount());
        SessionLogs logs = logs();
        Map<String, Long> perSession = logs.of("llm_call").stream().collect(Collectors.groupingBy(
                e -> e.get("session").asText(), Collectors.summingLong(e -> e.get("total_tokens").asLong())));
        assertEquals(8, perSession.size(), perSession::toString);
        assertEquals(8, logs.files.size());
        assertEquals(server.totalInputTokens() + server.totalOutputTokens(),
                perSession.values().stream().mapToLong(Long::longValue).sum());
        Set<String> scopes = logs.of("session_start").stream().map(e -> e.get("scope").asText())
                .map(s -> s.replaceAll("#\\d+$", "")).collect(Collectors.toSet());
        assertEquals(Set.of("thread:worker-0", "thread:worker-1", "thread:worker-2", "thread:worker-3",
                "thread:worker-4", "thread:worker-5", "thread:worker-6", "thread:worker-7"), scopes);
        for (JsonNode end : logs.of("session_end")) {
            assertEquals(perSession.get(end.get("session").asText()), end.get("total_tokens").asLong());
        }
    }

    @Test
    void warnModeNeverRefuses() throws Exception {
        ForkedJvm.Result result = run("mode=warn,budget.max-tokens=300", "sync", 12);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(12, result.lines("OK ").size());
        assertEquals(0, result.lines("REFUSED ").size());
        assertEquals(12, server.requestCount());
        SessionLogs logs = logs();
        assertEquals(List.of(0.75, 0.9, 0.95), logs.of("budget_warning").stream()
                .map(w -> w.get("threshold").asDouble()).toList());
        assertEquals(0, logs.of("budget_exceeded").size());
    }

    @Test
    void aBadValueGetsOneClearLineAndTheAppRunsUninstrumented() throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=lots", "sync", 3);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(3, result.lines("OK ").size());
        List<String> agentLines = result.agentLines();
        assertEquals(1, agentLines.size(), result::toString);
        assertTrue(agentLines.get(0).contains("tokenguard.budget.max-tokens") && agentLines.get(0).contains("lots"),
                agentLines.get(0));
        assertFalse(Files.exists(work.resolve("tokenguard-sessions")));
    }

    @Test
    void anMdcValueCannotPlaceAFileOutsideTheSessionDir() throws Exception {
        ForkedJvm.Result result = run("budget.scope=mdc:tenant", "mdc", 2, "../../x");
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        Path dir = work.resolve("tokenguard-sessions").toRealPath();
        SessionLogs logs = logs();
        assertEquals(1, logs.files.size());
        assertEquals(dir, logs.files.get(0).toRealPath().getParent());
        assertEquals("mdc:tenant=../../x", logs.of("session_start").get(0).get("scope").asText());
        try (Stream<Path> all = Files.walk(work)) {
            assertEquals(List.of(), all.filter(p -> p.getFileName().toString().startsWith("x"))
                    .collect(Collectors.toList()));
        }
    }

    @Test
    void anAppWithItsOwnOlderByteBuddyAndJacksonKeepsWorking() throws Exception {
        ForkedJvm.Result result = run("", "own-libraries", 3);
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        String libs = result.lines("LIBS ").get(0);
        assertTrue(libs.contains("byte-buddy-1.12.19.jar") && libs.contains("made by the app's Byte Buddy"), libs);
        assertEquals(3, logs().of("llm_call").size());
    }

    @Test
    void installingTheAgentTwiceIsHarmless() throws Exception {
        List<String> args = List.of("sync", server.baseUrl(), "3");
        ForkedJvm.Result result = ForkedJvm.run(work, "", List.of("-javaagent:" + ForkedJvm.AGENT_JAR), Map.of(),
                APP, args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        assertEquals(3, server.requestCount());
        assertEquals(3, logs().of("llm_call").size());
    }

    @Test
    void theOldestSupportedOpenAiJavaIsGovernedToo() throws Exception {
        Path oldest = Path.of(System.getProperty("tokenguard.openai.oldest.dir"));
        String version = System.getProperty("tokenguard.openai.oldest.version");
        List<String> args = List.of("stream", server.baseUrl(), "200");
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(work, "budget.max-tokens=800", List.of(), Map.of(),
                ForkedJvm.classPathWithOpenAi(oldest), APP, args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java " + version), result.agentLines());
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);
        assertEquals(server.totalInputTokens() + server.totalOutputTokens(), logs().sum("llm_call", "total_tokens"));
    }

    @Test
    void theReportCommandPrintsTheTotals() throws Exception {
        run("", "sync", 4);
        ProcessBuilder report = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", ForkedJvm.AGENT_JAR.toString(), "report", "tokenguard-sessions").directory(work.toFile())
                .redirectErrorStream(true);
        Process process = report.start();
        String out = new String(process.getInputStream().readAllBytes());
        assertEquals(0, process.waitFor(), out);
        long total = server.totalInputTokens() + server.totalOutputTokens();
        assertTrue(out.contains(String.valueOf(total)) || out.contains(String.format(java.util.Locale.ROOT, "%,d", total)), out);
        assertTrue(out.contains("gpt-4o-mini") && out.contains("openai"), out);
    }

    @Test
    void anIsolatedClassLoaderIsGovernedAndSeesTheSameRefusalClass() throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=700", "isolated-loader", 100);
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        assertEquals(List.of("ISOLATED app-loader=isolated same-class=true"), result.lines("ISOLATED "));
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        assertTrue(refused.get(0).endsWith("loader=null"), refused.get(0));
        assertEquals(server.requestCount(), result.lines("OK ").size());
        assertEquals(server.totalInputTokens() + server.totalOutputTokens(), logs().sum("llm_call", "total_tokens"));
    }

    @Test
    void theSampleAppAsTheReadmeRunsItWarnsThenRefuses() throws Exception {
        Path sampleJar = Path.of(System.getProperty("tokenguard.sample.jar")).toAbsolutePath();
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(work, "budget.max-tokens=900", List.of(), Map.of(),
                sampleJar.toString(), "dev.tokenguard.sample.SampleApp");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java"), result.agentLines());
        assertTrue(result.stdout().stream().anyMatch(l -> l.startsWith("refused: Token budget 'default' exhausted "
                + "for scope thread:main#1")), result::toString);
        SessionLogs logs = logs();
        assertEquals(List.of(0.75, 0.9, 0.95), logs.of("budget_warning").stream()
                .map(w -> w.get("threshold").asDouble()).toList());
        assertEquals(1, logs.of("budget_exceeded").size());
    }

    @Test
    void anAgentAttachedToARunningJvmGovernsTheClassesAlreadyLoaded() throws Exception {
        List<String> args = List.of("attach-late", server.baseUrl(), "100", ForkedJvm.AGENT_JAR.toString(),
                "budget.max-tokens=700");
        ForkedJvm.Result result = ForkedJvm.run(work, null, List.of("-Djdk.attach.allowAttachSelf=true"), Map.of(),
                APP, args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        assertEquals(1, result.lines("BEFORE ").size());
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);
        SessionLogs logs = logs();
        int governed = result.lines("OK ").size();
        assertEquals(governed, logs.of("llm_call").size(), "every call after the attach is governed");
        assertEquals(server.requestCount(), governed + 1);
        long first = server.requests().get(0).usage().totalTokens();
        assertEquals(server.totalInputTokens() + server.totalOutputTokens() - first,
                logs.sum("llm_call", "total_tokens"));
    }
}
