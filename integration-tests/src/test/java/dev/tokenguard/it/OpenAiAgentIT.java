package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.StubUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built agent on a real -javaagent flag, governing the real openai-java against the fake server. */
class OpenAiAgentIT {
    static final String APP = "dev.tokenguard.it.app.ScenarioApp";
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> EXPECTED_AGENT_LINES = List.of("[tokenguard] TokenGuard: governing openai-java 4.101.0",
            ForkedJvm.GOVERNING_OKHTTP);

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

    /** The agent printed its start-up line once and nothing else. */
    static void assertOnlyExpectedAgentLines(ForkedJvm.Result result) {
        assertEquals(EXPECTED_AGENT_LINES, result.agentLines(), result::toString);
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
        assertTrue(k > 0, "the server answered no call: " + result);
        assertEquals(k, server.requestCount(), "every request that reached the server was answered");
        // the first chat stream to an endpoint not known yet goes out as the app built it (the agent learns from it
        // that the server sends no usage unasked) and is charged a local estimate; every other call what was served
        boolean probe = scenario.equals("stream") || scenario.equals("async-stream");
        SessionLogs logs = logs();
        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(k, calls.size());
        List<Long> charged = calls.stream().map(c -> c.get("total_tokens").asLong()).toList();
        for (int i = 0; i < k; i++) {
            if (probe && i == 0) {
                assertFalse(server.requests().get(0).usageReported(), "the first stream went out as the app built it");
                assertEquals("estimated", calls.get(0).get("usage_source").asText());
            } else {
                assertEquals(served.get(i), charged.get(i), "call " + i);
                assertEquals("provider", calls.get(i).get("usage_source").asText());
            }
        }
        long before = charged.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = charged.stream().mapToLong(Long::longValue).sum();
        assertTrue(before < limit && all >= limit,
                "the server must stop exactly when the budget is exhausted: " + charged + "\n" + result);
        List<String> ok = result.lines("OK ");
        assertEquals(k, ok.size(), result::toString);
        for (int i = 0; i < k; i++) {
            String line = ok.get(i);
            switch (scenario) {
                // the usage the app saw is the usage the server sent
                case "sync", "async", "responses" -> assertEquals("OK " + server.requests().get(i).usage().inputTokens()
                        + " " + server.requests().get(i).usage().outputTokens(), line);
                // the usage-only chunk the agent asked for is hidden from the app
                case "stream" -> assertTrue(line.contains(" usageChunks=0 emptyChoiceChunks=0 "), line);
                case "async-stream" -> assertTrue(line.endsWith(" usageChunks=0"), line);
                case "responses-stream" -> assertTrue(line.endsWith(" completed=true"), line);
                default -> throw new AssertionError("no check for scenario " + scenario);
            }
        }
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        // the main thread's id differs between JDK releases (1 on 17, 3 on 25)
        assertTrue(refused.get(0).replaceFirst("thread:main#\\d+:", "thread:main#1:").startsWith("REFUSED "
                + "dev.tokenguard.api.BudgetExhaustedException Token budget "
                + "'default' exhausted for scope thread:main#1: " + String.format(java.util.Locale.ROOT, "%,d", all) + " of 1,200 tokens used; "
                + "refused openai chat gpt-4o-mini"), refused.get(0));
        assertTrue(refused.get(0).endsWith("loader=null"), "the exception is the bootstrap class: " + refused.get(0));

        assertEquals(1, logs.files.size(), "one thread, one session");
        int exact = probe ? 1 : 0;
        assertEquals(server.requests().subList(exact, k).stream().mapToLong(r -> r.usage().inputTokens()).sum(),
                calls.subList(exact, k).stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(server.requests().subList(exact, k).stream().mapToLong(r -> r.usage().outputTokens()).sum(),
                calls.subList(exact, k).stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        assertEquals(all, logs.sum("llm_call", "total_tokens"));
        for (JsonNode call : calls) {
            assertEquals("openai", call.get("provider").asText());
            assertEquals("gpt-4o-mini", call.get("request_model").asText());
            assertEquals(scenario.contains("stream"), call.get("streaming").asBoolean());
            assertEquals("ok", call.get("status").asText());
        }
        List<Double> thresholds = logs.of("budget_warning").stream().map(w -> w.get("threshold").asDouble()).toList();
        assertEquals(List.of(0.75, 0.9, 0.95), thresholds);
        assertEquals(3, logs.of("budget_exceeded").size());
        assertEquals(1, logs.of("session_end").size());
        JsonNode end = logs.of("session_end").get(0);
        assertEquals("thread_end", end.get("reason").asText(), "main has ended when the JVM shuts down");
        assertEquals(all, end.get("total_tokens").asLong());
    }

    @Test
    void streamingWithoutIncludeUsageIsChargedExactlyAndTheAppSeesNoUsageChunk() throws Exception {
        ForkedJvm.Result result = run("", "stream", 5);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(5, result.lines("OK ").size(), result::toString);
        for (String line : result.lines("OK ")) {
            assertTrue(line.contains("usageChunks=0 emptyChoiceChunks=0"), line);
        }
        assertEquals(5, server.requests().size());
        // the first stream to the server goes out as the app built it: no usage chunk comes, so the agent learns
        // that the server sends usage only when asked, charges that stream a local estimate, and asks from then on
        assertFalse(server.requests().get(0).usageReported(), "the first stream went out as the app built it");
        server.requests().subList(1, 5).forEach(r -> assertTrue(r.usageReported(), "the agent asks for the usage chunk"));
        List<JsonNode> calls = logs().of("llm_call");
        assertEquals(5, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        for (int i = 1; i < 5; i++) {
            assertEquals(server.requests().get(i).usage().totalTokens(), calls.get(i).get("total_tokens").asLong());
            assertEquals("provider", calls.get(i).get("usage_source").asText());
        }
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
        // the app read the role chunk and the first piece of each answer, then closed the stream
        String[] seen = {"Ticket 0: the printer on floor 0 jams every morning so the ",
                "Ticket 1: the printer on floor 1 jams every "};
        assertEquals(List.of("OK - - chunks=2 text=[" + seen[0] + "]", "OK - - chunks=2 text=[" + seen[1] + "]"),
                result.lines("OK "), result::toString);
        // the prompts exactly as sent (ScenarioApp.chatParams)
        String system = "You summarise support tickets in one sentence.";
        String[] user = {"Ticket 0: the printer on floor 0 jams every morning ",
                "Ticket 1: the printer on floor 1 jams every morning xxxxx"};
        assertEquals(2, server.requests().size());
        for (int i = 0; i < 2; i++) {
            JsonNode messages = JSON.readTree(server.requests().get(i).body()).get("messages");
            assertEquals(2, messages.size());
            assertEquals(system, messages.get(0).get("content").asText());
            assertEquals(user[i], messages.get(1).get("content").asText());
        }
        // The estimate worked out by hand: o200k_base tokens of the messages' text, each message followed by a
        // newline (23 and 25 tokens, counted with jtokkit 1.1.0 outside this test), plus 4 tokens per message
        // for its role and separators (OpenAI's cookbook figure): 23 + 2 * 4 and 25 + 2 * 4. The output is the
        // o200k_base tokens of the text the app saw (16 and 13).
        long[] input = {31, 33};
        long[] output = {16, 13};
        List<JsonNode> calls = logs().of("llm_call");
        assertEquals(2, calls.size());
        for (int i = 0; i < 2; i++) {
            JsonNode call = calls.get(i);
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertEquals(input[i], call.get("input_tokens").asLong(), call.toString());
            assertEquals(output[i], call.get("output_tokens").asLong(), call.toString());
            assertEquals(input[i] + output[i], call.get("total_tokens").asLong(), call.toString());
            assertTrue(call.get("streaming").asBoolean(), call.toString());
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
        assertEquals(List.of(), result.lines("FAILED "), "no worker thread failed\n" + result);
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyExpectedAgentLines(result);
        assertEquals(200, result.lines("OK ").size(), result::toString);
        assertEquals(200, server.requestCount());
        SessionLogs logs = logs();
        Map<String, Long> perSession = logs.of("llm_call").stream().collect(Collectors.groupingBy(
                e -> e.get("session").asText(), Collectors.summingLong(e -> e.get("total_tokens").asLong())));
        assertEquals(8, perSession.size(), perSession::toString);
        assertEquals(8, logs.files.size());
        Map<String, Long> callsPerSession = logs.of("llm_call").stream().collect(Collectors.groupingBy(
                e -> e.get("session").asText(), Collectors.counting()));
        assertEquals(Set.of(25L), Set.copyOf(callsPerSession.values()), callsPerSession::toString);
        assertEquals(server.totalInputTokens() + server.totalOutputTokens(),
                perSession.values().stream().mapToLong(Long::longValue).sum());
        Set<String> scopes = logs.of("session_start").stream().map(e -> e.get("scope").asText())
                .map(s -> s.replaceAll("#\\d+$", "")).collect(Collectors.toSet());
        assertEquals(Set.of("thread:worker-0", "thread:worker-1", "thread:worker-2", "thread:worker-3",
                "thread:worker-4", "thread:worker-5", "thread:worker-6", "thread:worker-7"), scopes);
        List<JsonNode> ends = logs.of("session_end");
        assertEquals(8, ends.size(), ends::toString);
        for (JsonNode end : ends) {
            assertEquals("thread_end", end.get("reason").asText(), end.toString());
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
        List<String> libsLines = result.lines("LIBS ");
        assertEquals(1, libsLines.size(), result::toString);
        String libs = libsLines.get(0);
        assertTrue(libs.contains("byte-buddy-1.12.19.jar") && libs.contains("made by the app's Byte Buddy"), libs);
        // the app's ObjectMapper is its own Jackson, from its own class path, not the agent's relocated copy
        Path appJackson = ForkedJvm.applicationJar("jackson-databind-");
        String appVersion = appJackson.getFileName().toString()
                .substring("jackson-databind-".length()).replace(".jar", "");
        String agentVersion = ForkedJvm.agentJacksonVersion();
        assertNotEquals(appVersion, agentVersion, "the app's Jackson must differ from the agent's for this test");
        assertTrue(libs.contains(" jackson=" + appVersion + " "), "app " + appVersion + ", agent " + agentVersion
                + ": " + libs);
        assertTrue(libs.contains(" jackson-jar="), libs);
        String jar = libs.substring(libs.indexOf(" jackson-jar=") + " jackson-jar=".length());
        jar = jar.substring(0, jar.indexOf(' '));
        assertEquals(appJackson.toAbsolutePath(), Path.of(java.net.URI.create(jar)), libs);
        assertTrue(libs.endsWith(" json={\"made\":\"made by the app's Byte Buddy\"}"), libs);
        assertEquals(3, result.lines("OK ").size(), result::toString);
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
        assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java " + version, ForkedJvm.GOVERNING_OKHTTP),
                result.agentLines());
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);
        // the first stream is the one that learns the server sends no usage unasked: estimated; the others exact
        List<JsonNode> calls = logs().of("llm_call");
        int k = server.requests().size();
        assertEquals(k, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertEquals(server.requests().subList(1, k).stream().mapToLong(r -> r.usage().totalTokens()).sum(),
                calls.subList(1, k).stream().mapToLong(c -> c.get("total_tokens").asLong()).sum());
    }

    @Test
    void theReportCommandPrintsTheTotals() throws Exception {
        ForkedJvm.Result first = run("", "sync", 4);
        assertEquals(0, first.exitCode(), first::toString);
        assertEquals(4, first.lines("OK ").size(), first::toString);
        assertEquals(4, server.requestCount());
        ProcessBuilder report = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", ForkedJvm.AGENT_JAR.toString(), "report", "--html", "usage.html", "tokenguard-sessions").directory(work.toFile())
                .redirectErrorStream(true);
        Process process = report.start();
        String out = new String(process.getInputStream().readAllBytes());
        assertEquals(0, process.waitFor(), out);
        // gpt-4o-mini list prices in USD per 1M tokens, from prices.json entries "gpt-4o-mini" and
        // "gpt-4o-mini-20*" (the server answers with gpt-4o-mini-2024-07-18): input 0.15, cached input 0.075,
        // output 0.60
        BigDecimal cost = BigDecimal.ZERO;
        for (RecordedRequest request : server.requests()) {
            StubUsage u = request.usage();
            cost = cost.add(new BigDecimal("0.15").multiply(BigDecimal.valueOf(u.inputTokens() - u.cachedTokens()))
                    .add(new BigDecimal("0.075").multiply(BigDecimal.valueOf(u.cachedTokens())))
                    .add(new BigDecimal("0.60").multiply(BigDecimal.valueOf(u.outputTokens()))));
        }
        cost = cost.movePointLeft(6);
        List<String> expected = List.of("4", String.valueOf(server.totalInputTokens()),
                String.valueOf(server.totalOutputTokens()), String.valueOf(server.totalTokens()));
        for (String[] row : List.of(reportRow(out, "session", "TOTAL"), reportRow(out, "model", "gpt-4o-mini"),
                reportRow(out, "provider", "openai"))) {
            // columns: key calls input_tokens output_tokens total_tokens cost_usd warnings refusals
            assertEquals(8, row.length, String.join(" ", row));
            assertEquals(expected, List.of(row[1], row[2], row[3], row[4]), out);
            // printed with 6 decimals: within half a unit of the last digit
            assertEquals(cost.doubleValue(), Double.parseDouble(row[5]), 0.5e-6 + 1e-12, out);
            assertEquals(List.of("0", "0"), List.of(row[6], row[7]), out);
        }
        // the same totals in the HTML page's charts
        String html = Files.readString(work.resolve("usage.html"));
        assertTrue(html.contains("<svg class=\"chart\" id=\"chart-tokens\"") && html.contains("data-total=\""
                + server.totalTokens() + "\""), html);
        java.util.regex.Matcher costChart = java.util.regex.Pattern.compile("id=\"chart-cost\"[^>]* data-total=\"([0-9.]+)\"")
                .matcher(html);
        assertTrue(costChart.find(), html);
        assertEquals(cost.doubleValue(), Double.parseDouble(costChart.group(1)), 0.5e-6 + 1e-12, html);
    }

    /** The cells of the row named {@code key} in the report's "By {@code section}" table, checking its header. */
    static String[] reportRow(String report, String section, String key) {
        for (String part : report.split("\\R\\R")) {
            if (part.startsWith("By " + section)) {
                String[] lines = part.split("\\R");
                assertEquals(List.of(section, "calls", "input_tokens", "output_tokens", "total_tokens", "cost_usd",
                        "warnings", "refusals"), List.of(lines[1].trim().split("\\s+")), part);
                for (String line : lines) {
                    String[] cells = line.trim().split("\\s+");
                    if (cells[0].equals(key)) {
                        return cells;
                    }
                }
            }
        }
        throw new AssertionError("no row " + key + " in the table by " + section + " of:\n" + report);
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
        assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java", ForkedJvm.GOVERNING_OKHTTP),
                result.agentLines());
        assertTrue(result.stdout().stream().anyMatch(l -> l.matches("refused: Token budget 'default' exhausted "
                + "for scope thread:main#\\d+: .*")), result::toString);
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
        // classes loaded before the attach are retransformed in no set order, so are their start-up lines
        assertEquals(EXPECTED_AGENT_LINES.stream().sorted().toList(), result.agentLines().stream().sorted().toList(),
                result::toString);
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
