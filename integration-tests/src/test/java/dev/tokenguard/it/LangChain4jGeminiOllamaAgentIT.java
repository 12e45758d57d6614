package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeGeminiServer;
import dev.tokenguard.sample.stub.FakeOllamaServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag, governing LangChain4j's Gemini and Ollama models against the fake
 * Gemini and Ollama servers. LangChain4j sends over its own HTTP client on the JDK's {@code HttpClient}, so the
 * {@code jdk-http-client} layer charges each request, told about the servers through
 * {@code tokenguard.http.endpoints}. One forked JVM runs every step (see {@code LangChain4jGeminiOllamaApp}).
 */
class LangChain4jGeminiOllamaAgentIT {
    static final String APP = "dev.tokenguard.it.app.LangChain4jGeminiOllamaApp";
    static final long LIMIT = 500;
    static final List<String> KINDS = List.of("gemini-chat", "gemini-stream", "gemini-embed", "ollama-chat",
            "ollama-stream", "ollama-embed");
    static FakeGeminiServer gemini;
    static FakeOllamaServer ollama;

    @TempDir
    Path work;

    @BeforeAll
    static void startServers() {
        gemini = FakeGeminiServer.start();
        ollama = FakeOllamaServer.start();
    }

    @AfterAll
    static void stopServers() {
        gemini.close();
        ollama.close();
    }

    @BeforeEach
    void resetServers() {
        gemini.reset();
        ollama.reset();
    }

    ForkedJvm.Result run(String classPath, List<String> steps) throws Exception {
        String endpoints = "-Dtokenguard.http.endpoints=" + gemini.baseUrl() + "=gcp.gemini," + ollama.baseUrl()
                + "=ollama";
        List<String> args = new ArrayList<>(List.of(gemini.baseUrl(), ollama.baseUrl()));
        args.addAll(steps);
        return ForkedJvm.runWithClassPath(work, "budget.max-tokens=" + LIMIT, List.of(endpoints), Map.of(), classPath,
                APP, args.toArray(String[]::new));
    }

    static boolean isGemini(String step) {
        return step.contains("gemini");
    }

    /** The requests the server received from a step (its prompts carry {@code [step]}). */
    static List<RecordedRequest> served(String step) {
        return (isGemini(step) ? gemini.requests() : ollama.requests()).stream()
                .filter(r -> r.body().contains("[" + step + "]")).toList();
    }

    /** The events of a step's session (the step ran on a thread named after it). */
    static List<JsonNode> events(SessionLogs logs, String step, String event) {
        return logs.of(event).stream().filter(e -> e.path("session").asText().startsWith("thread:" + step + "#"))
                .toList();
    }

    static List<String> lines(ForkedJvm.Result result, String prefix, String step) {
        return result.lines(prefix + " " + step + " ");
    }

    @Test
    void eachRequestIsChargedOnceByTheHttpLayerAndARefusalSendsNothing() throws Exception {
        ForkedJvm.Result result = runAndCheck(ForkedJvm.applicationClassPath(), KINDS);
        assertEquals(List.of("LIBRARIES langchain4j-google-ai-gemini-" + System.getProperty(
                "tokenguard.langchain4j.version") + ".jar langchain4j-ollama-" + System.getProperty(
                "tokenguard.langchain4j.ollama.version") + ".jar langchain4j-core-" + System.getProperty(
                "tokenguard.langchain4j.version") + ".jar"), result.lines("LIBRARIES "));
    }

    @Test
    void theOldestModulesThatTakeABaseUrlAreGovernedAlike() throws Exception {
        Path oldest = Path.of(System.getProperty("tokenguard.langchain4j.gemini.ollama.oldest.dir"));
        String version = System.getProperty("tokenguard.langchain4j.gemini.ollama.oldest.version");
        try (Stream<Path> jars = Files.list(oldest)) {
            List<String> names = jars.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(5, names.size(), names::toString);
            assertTrue(names.stream().allMatch(n -> n.startsWith("langchain4j-") && n.endsWith("-" + version + ".jar")),
                    names::toString);
        }
        ForkedJvm.Result result = runAndCheck(ForkedJvm.classPathWith("langchain4j", oldest),
                List.of("gemini-chat", "ollama-stream"));
        assertEquals(List.of("LIBRARIES langchain4j-google-ai-gemini-" + version + ".jar langchain4j-ollama-" + version
                + ".jar langchain4j-core-" + version + ".jar"), result.lines("LIBRARIES "));
    }

    /**
     * Runs every kind of call twice and then, for each of {@code refusing}, calls until one is refused; checks
     * each step against the servers' ledgers and the session log, and prints how each refusal reached the app.
     */
    ForkedJvm.Result runAndCheck(String classPath, List<String> refusing) throws Exception {
        List<String> steps = new ArrayList<>(KINDS);
        refusing.forEach(kind -> steps.add("refuse-" + kind));
        ForkedJvm.Result result = run(classPath, steps);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing jdk-http-client " + JdkHttpClientAgentIT.jdkVersion()),
                result.agentLines(), result::toString);
        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        assertChargedAsServed(logs, result);

        for (String kind : KINDS) {
            // two calls, each one request (an embedAll of three texts is one batch request)
            assertEquals(2, lines(result, "OK", kind).size(), result::toString);
            assertEquals(0, lines(result, "REFUSED", kind).size(), result::toString);
            assertEquals(2, served(kind).size(), kind);
            assertEquals(2, events(logs, kind, "llm_call").size(), kind);
            assertEquals(served(kind).stream().mapToLong(r -> r.usage().totalTokens()).sum(),
                    events(logs, kind, "llm_call").stream().mapToLong(e -> e.get("total_tokens").asLong()).sum(), kind);
        }

        List<String> report = new ArrayList<>();
        for (String kind : refusing) {
            String step = "refuse-" + kind;
            List<Long> tokens = served(step).stream().map(r -> r.usage().totalTokens()).toList();
            int k = tokens.size();
            assertEquals(k, lines(result, "OK", step).size(), "every call the app saw answered was served once: "
                    + result);
            assertTrue(k > 1, step + ": several calls were served before the refusal\n" + result);
            long before = tokens.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
            long all = tokens.stream().mapToLong(Long::longValue).sum();
            assertTrue(before < LIMIT && all >= LIMIT, step + ": the server stopped exactly when the budget was "
                    + "exhausted: " + tokens + "\n" + result);
            List<String> refused = lines(result, "REFUSED", step);
            assertEquals(2, refused.size(), result::toString);
            for (String line : refused) {
                assertTrue(line.matches("REFUSED " + step + " \\d+ (thrown|cause|handler) "
                        + "dev\\.tokenguard\\.api\\.BudgetExhaustedException Token budget 'default' exhausted for "
                        + "scope thread:" + step + "#\\d+: [\\d,]+ of 500 tokens used; refused "
                        + (isGemini(step) ? "gcp\\.gemini" : "ollama") + " .*"), line);
            }
            assertEquals(k, events(logs, step, "llm_call").size(), step);
            assertEquals(all, events(logs, step, "llm_call").stream().mapToLong(e -> e.get("total_tokens").asLong())
                    .sum(), step);
            int exceeded = events(logs, step, "budget_exceeded").size();
            assertTrue(exceeded >= refused.size(), step + ": each refused call is logged: " + exceeded);
            report.add(step + ": " + refused.stream().map(l -> l.split(" ")[3]).collect(Collectors.joining(","))
                    + ", budget_exceeded=" + exceeded + " for " + refused.size() + " refused calls");
        }
        assertSecretsNeverWritten(result);
        // what LangChain4j does with a refusal, for the record (its own retries log one refusal per attempt)
        System.out.println("LangChain4j refusals: " + report);
        return result;
    }

    /** Every physical request the servers received was answered and is one llm_call with the server's counts. */
    static void assertChargedAsServed(SessionLogs logs, ForkedJvm.Result result) {
        List<JsonNode> calls = logs.of("llm_call");
        List<JsonNode> geminiCalls = calls.stream().filter(c -> c.get("provider").asText().equals("gcp.gemini")).toList();
        List<JsonNode> ollamaCalls = calls.stream().filter(c -> c.get("provider").asText().equals("ollama")).toList();
        assertEquals(calls.size(), geminiCalls.size() + ollamaCalls.size(), calls::toString);
        assertTrue(gemini.requests().stream().allMatch(RecordedRequest::answered), gemini::toString);
        assertTrue(ollama.requests().stream().allMatch(RecordedRequest::answered), ollama::toString);
        assertEquals(gemini.requestCount(), geminiCalls.size(), result::toString);
        assertEquals(ollama.requestCount(), ollamaCalls.size(), result::toString);
        assertEquals(gemini.totalInputTokens(), geminiCalls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(gemini.totalOutputTokens(), geminiCalls.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        assertEquals(ollama.totalInputTokens(), ollamaCalls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(ollama.totalOutputTokens(), ollamaCalls.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        long reasoning = gemini.requests().stream().mapToLong(r -> r.usage().reasoningTokens()).sum();
        assertTrue(reasoning > 0, "the thinking model reported thoughts");
        assertEquals(reasoning, geminiCalls.stream().mapToLong(c -> c.path("reasoning_tokens").asLong()).sum());
        for (JsonNode call : calls) {
            assertEquals("provider", call.get("usage_source").asText(), call::toString);
            assertEquals("ok", call.get("status").asText(), call::toString);
            String session = call.get("session").asText();
            boolean embed = session.contains("embed");
            boolean stream = session.contains("stream");
            boolean isGemini = call.get("provider").asText().equals("gcp.gemini");
            assertEquals(stream, call.get("streaming").asBoolean(), call::toString);
            assertEquals(embed ? "embeddings" : isGemini ? "generate_content" : "chat", call.get("operation").asText(),
                    call::toString);
            assertEquals(embed ? (isGemini ? "gemini-embedding-001" : "all-minilm")
                    : (isGemini ? "gemini-2.5-flash" : "llama3.2"), call.get("request_model").asText(), call::toString);
        }
    }

    void assertSecretsNeverWritten(ForkedJvm.Result result) throws Exception {
        String secret = "AIzaSy-secret-do-not-log";
        assertTrue(gemini.requests().stream().allMatch(r -> r.header("x-goog-api-key").startsWith(secret)),
                "the app sent its key");
        assertFalse(result.toString().contains(secret), result::toString);
        try (Stream<Path> files = Files.list(work.resolve("tokenguard-sessions"))) {
            for (Path file : files.toList()) {
                assertFalse(Files.readString(file).contains(secret), file::toString);
            }
        }
    }
}
