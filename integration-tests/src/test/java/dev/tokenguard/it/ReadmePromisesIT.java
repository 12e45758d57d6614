package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.StubUsage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.File;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What README promises about switches, the async Responses API and embeddings, the price file,
 * how sessions end, Log4j 2's MDC and internal failures, each checked on the built agent in a
 * forked JVM against the fake server.
 */
class ReadmePromisesIT {
    static final String APP = "dev.tokenguard.it.app.PromiseScenarios";
    static final String GOVERNING = "[tokenguard] TokenGuard: governing openai-java 4.101.0";

    static FakeOpenAiServer server;

    /** The run that waits for a UTC minute boundary: started at once, beside the other tests. */
    static FakeOpenAiServer windowServer;
    static CompletableFuture<ForkedJvm.Result> windowRun;
    @TempDir
    static Path windowWork;

    @TempDir
    Path work;

    @BeforeAll
    static void start() {
        server = FakeOpenAiServer.start();
        windowServer = FakeOpenAiServer.start();
        windowRun = CompletableFuture.supplyAsync(() -> {
            try {
                return ForkedJvm.run(windowWork, "budget.scope=global,budget.window=1m,budget.max-tokens=150",
                        List.of(), Map.of(), APP, "across-a-window", windowServer.baseUrl(), "50");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            // never leave the forked JVM behind, even when its test was not selected
            windowRun.handle((r, e) -> null).get(120, TimeUnit.SECONDS);
        } finally {
            windowServer.close();
            server.close();
        }
    }

    @BeforeEach
    void resetServer() {
        server.reset();
    }

    ForkedJvm.Result run(String agentArgs, List<String> jvmOptions, String scenario, int calls, String... more)
            throws Exception {
        List<String> args = new ArrayList<>(List.of(scenario, server.baseUrl(), String.valueOf(calls)));
        args.addAll(List.of(more));
        return ForkedJvm.run(work, agentArgs, jvmOptions, Map.of(), APP, args.toArray(String[]::new));
    }

    SessionLogs logs() throws Exception {
        return SessionLogs.read(work.resolve("tokenguard-sessions"));
    }

    static void assertOnlyTheStartupLine(ForkedJvm.Result result) {
        assertEquals(List.of(GOVERNING, ForkedJvm.GOVERNING_OKHTTP), result.agentLines(), result::toString);
    }

    /** Total tokens the server reported per request, in order. */
    static List<Long> servedTotals(FakeOpenAiServer fake) {
        List<RecordedRequest> requests = fake.requests();
        for (RecordedRequest r : requests) {
            assertTrue(r.answered() && r.usage() != null, r::toString);
        }
        return requests.stream().map(r -> r.usage().totalTokens()).toList();
    }

    static String tokens(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    // ---- switches

    @Test
    void disabledInstallsNothingAndRefusesNothing() throws Exception {
        ForkedJvm.Result result = run("enabled=false,budget.max-tokens=10", List.of(), "sync-then-stream", 6);

        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(), result.agentLines(), result::toString);
        assertEquals(List.of("API_CLASS bootstrap=false"), result.lines("API_CLASS "), "nothing on the bootstrap path");
        assertEquals(7, result.lines("OK ").size(), result::toString);
        assertEquals(0, result.lines("REFUSED ").size(), result::toString);
        assertEquals(7, server.requestCount());
        assertTrue(server.totalTokens() > 10 * 7, "far past the 10-token budget: " + server.totalTokens());
        RecordedRequest stream = server.lastRequest();
        assertTrue(stream.streaming(), stream::toString);
        assertFalse(stream.usageReported(), "no agent asked for the usage chunk: " + stream.body());
        assertFalse(Files.exists(work.resolve("tokenguard-sessions")), "no session dir");
    }

    @Test
    void withoutTheSessionLogNoFileIsWrittenAndTheBudgetStillRefuses() throws Exception {
        long limit = 400;
        ForkedJvm.Result result = run("session-log.enabled=false,budget.max-tokens=" + limit, List.of(), "chat", 100);

        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLine(result);
        List<Long> served = servedTotals(server);
        long all = served.stream().mapToLong(Long::longValue).sum();
        long beforeLast = all - served.get(served.size() - 1);
        assertTrue(beforeLast < limit && all >= limit, "the server stops when the budget is used up: " + served);
        assertEquals(served.size(), result.lines("OK ").size(), result::toString);
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        assertTrue(mainThreadIdMasked(refused.get(0)).startsWith("REFUSED dev.tokenguard.api.BudgetExhaustedException "
                + "Token budget 'default' exhausted for scope thread:main#<id>: " + tokens(all) + " of " + tokens(limit)
                + " tokens used; refused openai chat gpt-4o-mini"), refused.get(0));
        assertFalse(Files.exists(work.resolve("tokenguard-sessions")), "no session dir");
        try (var files = Files.walk(work)) {
            assertEquals(List.of(), files.filter(p -> p.toString().endsWith(".jsonl")).toList());
        }
    }

    // ---- async Responses API and embeddings

    @ParameterizedTest
    @CsvSource({
            "async-responses,        1200, chat gpt-4o-mini,                   false",
            "async-responses-stream, 1200, chat gpt-4o-mini,                   true",
            "async-embeddings,       150,  embeddings text-embedding-3-small, false",
    })
    void asyncResponsesAndEmbeddingsAreChargedWhatTheServerServedAndRefusedPastTheBudget(
            String scenario, long limit, String refusedCall, boolean streaming) throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=" + limit, List.of(), scenario, 200);

        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLine(result);
        List<Long> served = servedTotals(server);
        int k = served.size();
        long all = served.stream().mapToLong(Long::longValue).sum();
        long beforeLast = all - served.get(k - 1);
        assertTrue(k > 1 && beforeLast < limit && all >= limit,
                "the server stops exactly when the budget is used up: " + served + "\n" + result);
        assertEquals(k, result.lines("OK ").size(), result::toString);
        List<String> refused = result.lines("REFUSED ");
        assertEquals(3, refused.size(), result::toString);
        assertTrue(mainThreadIdMasked(refused.get(0)).startsWith("REFUSED dev.tokenguard.api.BudgetExhaustedException "
                + "Token budget 'default' exhausted for scope thread:main#<id>: " + tokens(all) + " of " + tokens(limit)
                + " tokens used; refused openai " + refusedCall), refused.get(0));
        if (streaming) {
            for (String ok : result.lines("OK ")) {
                assertTrue(ok.endsWith("completed=1"), "the app saw each stream to its end: " + ok);
            }
        }

        SessionLogs logs = logs();
        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(k, calls.size());
        assertEquals(server.totalInputTokens(), logs.sum("llm_call", "input_tokens"));
        assertEquals(server.totalOutputTokens(), logs.sum("llm_call", "output_tokens"));
        assertEquals(all, logs.sum("llm_call", "total_tokens"));
        for (JsonNode call : calls) {
            assertEquals("provider", call.get("usage_source").asText(), call::toString);
            assertEquals(refusedCall.split(" ")[0], call.get("operation").asText(), call::toString);
            assertEquals(streaming, call.get("streaming").asBoolean(), call::toString);
            assertEquals("ok", call.get("status").asText(), call::toString);
        }
        assertEquals(3, logs.of("budget_exceeded").size());
        assertEquals(all, logs.of("session_end").get(0).get("total_tokens").asLong());
    }

    // ---- price file

    @Test
    void aPriceFileSetsTheCostOfEachCall() throws Exception {
        // made-up prices, USD per 1M tokens; the fake server answers as gpt-4o-mini-2024-07-18
        BigDecimal input = new BigDecimal("3.1");
        BigDecimal cachedInput = new BigDecimal("0.7");
        BigDecimal output = new BigDecimal("11.3");
        Path prices = work.resolve("prices.json");
        Files.writeString(prices, "{\"models\": [{\"pattern\": \"gpt-4o-mini*\", \"provider\": \"openai\", "
                + "\"input\": " + input + ", \"cached_input\": " + cachedInput + ", \"output\": " + output + "}]}");

        ForkedJvm.Result result = run("pricing.file=" + prices, List.of(), "chat", 6);

        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLine(result);
        List<RecordedRequest> requests = server.requests();
        assertEquals(6, requests.size());
        assertTrue(requests.stream().anyMatch(r -> r.usage().cachedTokens() > 0), "some input came from the cache");
        List<JsonNode> calls = new ArrayList<>(logs().of("llm_call"));
        calls.sort(Comparator.comparingLong(c -> c.get("seq").asLong()));
        assertEquals(6, calls.size());
        BigDecimal total = BigDecimal.ZERO;
        for (int i = 0; i < 6; i++) {
            StubUsage u = requests.get(i).usage();
            BigDecimal expected = BigDecimal.valueOf(u.inputTokens() - u.cachedTokens()).multiply(input)
                    .add(BigDecimal.valueOf(u.cachedTokens()).multiply(cachedInput))
                    .add(BigDecimal.valueOf(u.outputTokens()).multiply(output))
                    .divide(BigDecimal.valueOf(1_000_000), MathContext.DECIMAL64);
            total = total.add(expected);
            JsonNode cost = calls.get(i).get("cost_usd");
            assertTrue(cost != null && cost.isNumber(), calls.get(i)::toString);
            assertEquals(expected.doubleValue(), cost.asDouble(), 1e-12, "call " + (i + 1) + " " + u + ": "
                    + calls.get(i));
        }
        JsonNode end = logs().of("session_end").get(0);
        assertEquals(total.doubleValue(), end.get("cost_usd").asDouble(), 1e-12, end::toString);
    }

    // ---- how sessions end

    @Test
    void aThreadStillAliveAtExitEndsItsSessionWithReasonShutdown() throws Exception {
        ForkedJvm.Result result = run("", List.of(), "daemon-left-running", 3);

        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLine(result);
        assertEquals(List.of("MAIN returns, worker alive=true"), result.lines("MAIN "), result::toString);
        assertEquals(3, result.lines("OK ").size(), result::toString);
        SessionLogs logs = logs();
        assertEquals(1, logs.files.size());
        assertTrue(logs.of("session_start").get(0).get("scope").asText().startsWith("thread:left-running#"),
                logs.events::toString);
        List<JsonNode> ends = logs.of("session_end");
        assertEquals(1, ends.size(), logs.events::toString);
        assertEquals("shutdown", ends.get(0).get("reason").asText(), ends.get(0)::toString);
        assertEquals(server.totalTokens(), ends.get(0).get("total_tokens").asLong());
        assertEquals(3, logs.of("llm_call").size());
    }

    @Test
    void aWindowBoundaryEndsTheGlobalSessionAndStartsANewOneWithAFreshBudget() throws Exception {
        ForkedJvm.Result result = windowRun.get(150, TimeUnit.SECONDS);
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLine(result);
        assertEquals(2, result.lines("WINDOW ").size(), result::toString);

        // both windows: calls until the 150-token budget is used up, then three refusals
        List<String> lines = result.stdout().stream().filter(l -> l.matches("(WINDOW|OK|REFUSED) .*")).toList();
        int second = lines.indexOf(result.lines("WINDOW 2").get(0));
        List<String> first = lines.subList(1, second);
        List<String> next = lines.subList(second + 1, lines.size());
        List<Long> served = servedTotals(windowServer);
        int k1 = (int) first.stream().filter(l -> l.startsWith("OK ")).count();
        int k2 = (int) next.stream().filter(l -> l.startsWith("OK ")).count();
        assertEquals(3, first.stream().filter(l -> l.startsWith("REFUSED ")).count(), result::toString);
        assertEquals(3, next.stream().filter(l -> l.startsWith("REFUSED ")).count(), result::toString);
        assertEquals(served.size(), k1 + k2);
        long total1 = served.subList(0, k1).stream().mapToLong(Long::longValue).sum();
        long total2 = served.subList(k1, k1 + k2).stream().mapToLong(Long::longValue).sum();
        assertTrue(total1 >= 150 && total2 >= 150, served::toString);

        SessionLogs logs = SessionLogs.read(windowWork.resolve("tokenguard-sessions"));
        List<JsonNode> starts = logs.of("session_start");
        assertEquals(2, starts.size(), logs.events::toString);
        assertEquals(2, logs.files.size());
        for (JsonNode start : starts) {
            assertEquals("global", start.get("scope").asText(), start::toString);
        }
        String firstSession = starts.get(0).get("session").asText();
        String nextSession = starts.get(1).get("session").asText();
        assertFalse(firstSession.equals(nextSession));
        Map<String, JsonNode> ends = logs.of("session_end").stream()
                .collect(Collectors.toMap(e -> e.get("session").asText(), e -> e));
        assertEquals(2, ends.size(), logs.events::toString);
        assertEquals("window_reset", ends.get(firstSession).get("reason").asText());
        assertEquals(total1, ends.get(firstSession).get("total_tokens").asLong());
        assertEquals("shutdown", ends.get(nextSession).get("reason").asText());
        assertEquals(total2, ends.get(nextSession).get("total_tokens").asLong());
        Map<String, Long> callsPerSession = logs.of("llm_call").stream()
                .collect(Collectors.groupingBy(e -> e.get("session").asText(), Collectors.counting()));
        assertEquals(Map.of(firstSession, (long) k1, nextSession, (long) k2), callsPerSession);
    }

    // ---- Log4j 2

    @Test
    void log4jThreadContextFeedsAnMdcScopeWithoutSlf4jOnTheClassPath() throws Exception {
        String classPath = Arrays.stream(ForkedJvm.applicationClassPath().split(File.pathSeparator))
                .filter(e -> {
                    String name = Path.of(e).getFileName().toString();
                    return !name.startsWith("slf4j-") && !name.startsWith("logback-");
                })
                .collect(Collectors.joining(File.pathSeparator));
        List<String> args = List.of("log4j-tenants", server.baseUrl(), "100", "acme", "globex");
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(work, "budget.scope=mdc:tenant,budget.max-tokens=300",
                List.of(), Map.of(), classPath, APP, args.toArray(String[]::new));

        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLine(result);
        assertEquals(List.of("SLF4J visible=false LOG4J visible=true"), result.lines("SLF4J "), result::toString);
        assertEquals(6, result.lines("REFUSED ").size(), "each tenant is refused on its own: " + result);
        assertTrue(result.lines("REFUSED ").get(0).contains("for scope mdc:tenant=acme:"), result::toString);
        assertTrue(result.lines("REFUSED ").get(3).contains("for scope mdc:tenant=globex:"), result::toString);
        SessionLogs logs = logs();
        assertEquals(2, logs.files.size(), logs.files::toString);
        assertEquals(Set.of("mdc:tenant=acme", "mdc:tenant=globex"), logs.of("session_start").stream()
                .map(e -> e.get("scope").asText()).collect(Collectors.toSet()));
        Map<String, Long> perSession = logs.of("llm_call").stream().collect(Collectors.groupingBy(
                e -> e.get("session").asText(), Collectors.summingLong(e -> e.get("total_tokens").asLong())));
        assertEquals(2, perSession.size());
        for (long used : perSession.values()) {
            assertTrue(used >= 300, "each tenant used up its own budget: " + perSession);
        }
        assertEquals(server.totalTokens(), perSession.values().stream().mapToLong(Long::longValue).sum());
        assertEquals(server.requestCount(), result.lines("OK ").size());
    }

    // ---- internal failures

    /**
     * The start-up lines and the one internal-error line of the SDK layer; a fault injected where every layer enters
     * a call also fails the OkHttp layer under the SDK, which reports it once on a line of its own.
     */
    static String onlyInternalErrorLine(ForkedJvm.Result result, boolean httpLayerToo) {
        List<String> lines = result.agentLines();
        List<String> errors = lines.stream().filter(l -> l.startsWith("[tokenguard] internal error (")).toList();
        assertEquals(List.of(GOVERNING, ForkedJvm.GOVERNING_OKHTTP),
                lines.stream().filter(l -> !errors.contains(l)).toList(), result::toString);
        assertEquals(httpLayerToo ? 2 : 1, errors.size(), "one internal-error line per layer: " + result);
        for (String error : errors) {
            assertFalse(error.contains("sk-"), error);
        }
        if (httpLayerToo) {
            assertTrue(errors.get(1).startsWith("[tokenguard] internal error (enter okhttp3.internal.connection.RealCall"),
                    errors.get(1));
        }
        return errors.get(0);
    }

    @ParameterizedTest
    @CsvSource({"enter", "finish"})
    void aFailureInsideTheAgentIsReportedOnceAndEveryCallProceeds(String point) throws Exception {
        ForkedJvm.Result result = run("budget.max-tokens=100000", List.of("-Dtokenguard.internal.fault=" + point),
                "chat", 5);

        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(5, result.lines("OK ").size(), result::toString);
        assertEquals(5, server.requestCount());
        List<String> ok = result.lines("OK ");
        List<RecordedRequest> requests = server.requests();
        for (int i = 0; i < 5; i++) {
            StubUsage u = requests.get(i).usage();
            assertEquals("OK " + u.inputTokens() + " " + u.outputTokens(), ok.get(i), "the app got its answer");
        }
        assertTrue(onlyInternalErrorLine(result, point.equals("enter")).contains(point), result::toString);
    }

    @Test
    void aFailureWhileObservingAStreamIsReportedOnceAndTheAppStillReadsItsWholeStream() throws Exception {
        ForkedJvm.Result plain = ForkedJvm.run(work, null, List.of(), Map.of(), APP, "stream-chunks",
                server.baseUrl(), "3");
        assertEquals(0, plain.exitCode(), plain::toString);
        List<String> seen = plain.lines("OK ").stream().map(l -> l.replaceAll(".* chars=", "chars=")).toList();
        assertEquals(3, seen.size(), plain::toString);
        server.reset();

        ForkedJvm.Result result = run("budget.max-tokens=100000", List.of("-Dtokenguard.internal.fault=stream"),
                "stream-chunks", 3);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(seen, result.lines("OK ").stream().map(l -> l.replaceAll(".* chars=", "chars=")).toList(),
                "the app reads the same text as without the agent");
        assertEquals(3, server.requestCount());
        assertTrue(onlyInternalErrorLine(result, false).contains("stream"), result::toString);
        List<JsonNode> calls = logs().of("llm_call");
        assertEquals(3, calls.size(), "every call is still logged and charged once");
        for (JsonNode call : calls) {
            assertEquals("ok", call.get("status").asText(), call.toString());
        }
    }

    @Test
    void withoutBudgetNotesAPlainRequestIsByteForByteWhatTheAppBuilt() throws Exception {
        ForkedJvm.Result plain = ForkedJvm.run(work, null, List.of(), Map.of(), APP, "chat", server.baseUrl(), "3");
        assertEquals(0, plain.exitCode(), plain::toString);
        List<String> bodies = server.requests().stream().map(RecordedRequest::body).toList();
        assertEquals(3, bodies.size());
        server.reset();
        ForkedJvm.Result governed = run("budget.max-tokens=1000000", List.of(), "chat", 3);
        assertEquals(0, governed.exitCode(), governed::toString);
        assertEquals(bodies, server.requests().stream().map(RecordedRequest::body).toList());
        assertEquals(3, logs().of("llm_call").size(), "the governed run was governed");
    }

    @Test
    void aServerThatSendsNoUsageIsChargedEstimatesAndReportedOnce() throws Exception {
        server.setUsageMode(dev.tokenguard.sample.stub.UsageMode.ABSENT);
        ForkedJvm.Result result = run("", List.of(), "chat", 3);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(GOVERNING, ForkedJvm.GOVERNING_OKHTTP,
                "[tokenguard] TokenGuard: openai-java: a response's usage could not be read"
                + " (no input token count); such calls are charged a local estimate, marked usage_source estimated"),
                result.agentLines(), result::toString);
        List<JsonNode> calls = logs().of("llm_call");
        assertEquals(3, calls.size());
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0 && call.get("output_tokens").asLong() > 0,
                    call.toString());
        }
    }

    /** The line with the main thread's id replaced: it is 1 on Java 17 and 3 on Java 25. */
    private static String mainThreadIdMasked(String line) {
        return line.replaceFirst("thread:main#\\d+", "thread:main#<id>");
    }
}
