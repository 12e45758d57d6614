package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * The built agent on a real -javaagent flag under LangChain4j (oldest and newest 1.x, and
 * {@code langchain4j-open-ai-official}), against the fake OpenAI and Anthropic servers. One forked JVM runs
 * every step of {@code LangChain4jScenarioApp}, each on a thread (and so a budget) of its own and with a model
 * name of its own: per step, the requests the server saw must equal the {@code llm_call} events, their tokens
 * the tokens charged, and the call after the budget ran out must be refused once, without a request.
 */
class LangChain4jAgentIT {
    static final String APP = "dev.tokenguard.it.app.LangChain4jScenarioApp";
    static final String REFUSAL = "dev.tokenguard.api.BudgetExhaustedException";
    static final long LIMIT = 400;
    static final ObjectMapper JSON = new ObjectMapper();
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

    /** A step of the scenario app: its model, its server, and how its refusal reaches the app (null: none). */
    record Step(String name, String model, boolean onAnthropic, String refusedHow) {
    }

    static final Step RETRY = new Step("retry", "gpt-4.1", false, null);
    static final Step CHAT = new Step("chat", "gpt-4o-mini", false, "thrown");
    static final Step STREAM = new Step("stream", "gpt-4o", false, "thrown");
    static final Step EMBED = new Step("embed", "text-embedding-3-small", false, "thrown");
    static final Step RESPONSES = new Step("responses", "gpt-4.1-mini", false, "thrown");
    static final Step TOOL = new Step("tool", "gpt-4.1-nano", false, "thrown");
    static final Step ANTHROPIC = new Step("anthropic", "claude-haiku-4-5", true, "thrown");
    static final Step ANTHROPIC_STREAM = new Step("anthropic-stream", "claude-sonnet-4-5", true, "thrown");
    static final Step OFFICIAL = new Step("official", "gpt-4o-mini", false, "thrown");
    static final Step OFFICIAL_STREAM = new Step("official-stream", "gpt-4o", false, "onError");

    /** The steps whose app reads each response's token usage (OpenAI's models). */
    static final List<Step> TOLD_USAGE = List.of(RETRY, CHAT, STREAM, EMBED, RESPONSES, OFFICIAL, OFFICIAL_STREAM);

    static String jdkVersion() {
        return Runtime.version().version().stream().map(String::valueOf).collect(Collectors.joining("."));
    }

    /**
     * The application class path with LangChain4j (and, where {@code withJackson}, Jackson's three core jars)
     * replaced by the jars in {@code dir}.
     */
    static String classPath(Path dir, boolean withJackson) throws IOException {
        return classPath(List.of(dir), withJackson, false);
    }

    /**
     * The application class path with LangChain4j (where {@code withJackson} Jackson's three core jars, where
     * {@code withOpenAi} openai-java's) replaced by the jars in {@code dirs}.
     */
    static String classPath(List<Path> dirs, boolean withJackson, boolean withOpenAi) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : ForkedJvm.applicationClassPath().split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            boolean jackson = name.startsWith("jackson-core-") || name.startsWith("jackson-databind-")
                    || name.startsWith("jackson-annotations-");
            if (!name.startsWith("langchain4j") && !(withJackson && jackson)
                    && !(withOpenAi && name.startsWith("openai-java"))) {
                entries.add(entry);
            }
        }
        for (Path dir : dirs) {
            try (Stream<Path> jars = Files.list(dir)) {
                jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> entries.add(p.toString()));
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    ForkedJvm.Result run(String agentArgs, String classPath, List<Step> steps) throws Exception {
        List<String> args = new ArrayList<>(List.of(openai.baseUrl(), anthropic.baseUrl()));
        steps.forEach(s -> args.add(s.name()));
        String endpoints = "-Dtokenguard.http.endpoints=" + openai.baseUrl() + "=openai," + anthropic.baseUrl()
                + "=anthropic";
        return ForkedJvm.runWithClassPath(work, agentArgs, List.of(endpoints), Map.of(), classPath, APP,
                args.toArray(String[]::new));
    }

    static String model(RecordedRequest request) {
        try {
            return JSON.readTree(request.body()).path("model").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<RecordedRequest> requests(Step step) {
        return (step.onAnthropic() ? anthropic.requests() : openai.requests()).stream()
                .filter(r -> model(r).equals(step.model())).toList();
    }

    static List<JsonNode> events(SessionLogs logs, String event, Step step) {
        return logs.of(event).stream().filter(e -> e.path("request_model").asText().equals(step.model())).toList();
    }

    /** The one line {@code STEP <name> <word> ...} the app printed, without that prefix. */
    static String stepLine(ForkedJvm.Result result, Step step, String word) {
        List<String> lines = result.lines("STEP " + step.name() + " " + word + " ");
        assertEquals(1, lines.size(), () -> step.name() + " " + word + "\n" + result);
        return lines.get(0).substring(("STEP " + step.name() + " " + word + " ").length());
    }

    /**
     * Every request of the step the server saw is one {@code llm_call} with the server's tokens; a refused step
     * ends with exactly one {@code budget_exceeded}, thrown to the app as the refusal itself (or handed to the
     * streaming handler's onError), and no request for the refused call.
     */
    static void assertStep(ForkedJvm.Result result, SessionLogs logs, Step step) {
        List<RecordedRequest> served = requests(step);
        List<JsonNode> calls = events(logs, "llm_call", step);
        assertFalse(served.isEmpty(), step.name());
        assertEquals(served.size(), calls.size(), () -> step.name() + ": one llm_call per physical request\n" + result);
        List<RecordedRequest> answered = served.stream().filter(RecordedRequest::answered).toList();
        assertEquals(answered.size(), calls.stream().filter(c -> c.path("status").asText().equals("ok")).count(),
                step.name());
        long input = answered.stream().mapToLong(r -> r.usage().inputTokens()).sum();
        long output = answered.stream().mapToLong(r -> r.usage().outputTokens()).sum();
        assertEquals(input, calls.stream().mapToLong(c -> c.path("input_tokens").asLong()).sum(), step.name());
        assertEquals(output, calls.stream().mapToLong(c -> c.path("output_tokens").asLong()).sum(), step.name());
        assertEquals(input + output, calls.stream().mapToLong(c -> c.path("total_tokens").asLong()).sum(),
                step.name());
        for (JsonNode call : calls) {
            assertEquals(step.onAnthropic() ? "anthropic" : "openai", call.path("provider").asText(), call::toString);
            assertEquals(step == EMBED ? "embeddings" : "chat", call.path("operation").asText(), call::toString);
            assertEquals(step.name().contains("stream"), call.path("streaming").asBoolean(), call::toString);
            assertEquals("provider", call.path("usage_source").asText(), call::toString);
        }
        if (TOLD_USAGE.contains(step)) {
            // the usage the responses told the app is the server's: a usage chunk LangChain4j asked for itself
            // stays in the stream
            assertEquals(input + output, Long.parseLong(stepLine(result, step, "APP-TOKENS")), step.name());
        }
        List<JsonNode> refusals = events(logs, "budget_exceeded", step);
        if (step.refusedHow() == null) {
            assertEquals(0, refusals.size(), step.name());
            return;
        }
        assertEquals(1, refusals.size(), () -> step.name() + ": one refusal, not one per retry\n" + result);
        long total = input + output;
        long beforeLast = total - answered.get(answered.size() - 1).usage().totalTokens();
        assertTrue(beforeLast < LIMIT && total >= LIMIT, () -> step.name() + ": the server stopped exactly when the"
                + " budget ran out: " + served);
        assertEquals(total, refusals.get(0).path("used").asLong(), step.name());
        String refused = stepLine(result, step, "REFUSED");
        assertTrue(refused.startsWith(step.refusedHow() + " " + REFUSAL + " - Token budget 'default' exhausted for"
                + " scope thread:step-" + step.name() + "#"), refused);
        int ok = Integer.parseInt(stepLine(result, step, "OK"));
        // the refused call sent nothing: the requests are those of the calls that succeeded (a tool loop makes
        // one request per tool call plus one per answer, so a call refused after its tool ran sent one)
        int expected = step == TOOL ? ok + Integer.parseInt(stepLine(result, step, "TOOLS").split(" ")[0]) : ok;
        assertEquals(expected, served.size(), () -> step.name() + "\n" + result);
    }

    static void assertQuiet(ForkedJvm.Result result) {
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("DONE"), result.lines("DONE"), result::toString);
        assertEquals(List.of(), result.lines("STEP ").stream().filter(l -> l.contains(" FAILED ")
                || l.contains(" NEVER-REFUSED")).toList(), result::toString);
        assertFalse(String.join("\n", result.stderr()).contains("sk-secret"), result::toString);
        assertFalse(String.join("\n", result.stdout()).contains("sk-secret"), result::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {"newest", "oldest"})
    void eachRequestIsChargedOnceAndARefusalIsNeitherSentNorRetried(String end) throws Exception {
        boolean newest = end.equals("newest");
        String version = System.getProperty("tokenguard.langchain4j." + end + ".version");
        Path jars = Path.of(System.getProperty("tokenguard.langchain4j." + end + ".dir"));
        // the Responses API model came after 1.0.0
        List<Step> steps = newest ? List.of(RETRY, CHAT, STREAM, EMBED, RESPONSES, TOOL, ANTHROPIC, ANTHROPIC_STREAM)
                : List.of(RETRY, CHAT, STREAM, EMBED, TOOL, ANTHROPIC, ANTHROPIC_STREAM);
        openai.setFailNext(500, 1); // the first request, the retry step's, fails once and is retried
        ForkedJvm.Result result = run("budget.max-tokens=" + LIMIT, classPath(jars, true), steps);
        assertQuiet(result);
        // langchain4j-anthropic 1.0.0-beta5 (beside core 1.0.0) still ran on OkHttp, whose layer charges it
        List<String> expected = new ArrayList<>(List.of(
                "[tokenguard] TokenGuard: governing jdk-http-client " + jdkVersion(),
                "[tokenguard] TokenGuard: governing langchain4j " + version));
        if (!newest) {
            expected.add(ForkedJvm.GOVERNING_OKHTTP);
        }
        assertEquals(expected.stream().sorted().toList(), result.agentLines().stream().sorted().toList(),
                result::toString);

        assertEquals("1 answered", stepLine(result, RETRY, "OK"));
        List<RecordedRequest> retried = requests(RETRY);
        assertEquals(List.of(500, 200), retried.stream().map(RecordedRequest::status).toList(),
                "the 5xx was retried once");
        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        assertEquals(List.of("error", "ok"), events(logs, "llm_call", RETRY).stream()
                .map(c -> c.path("status").asText()).toList(), "a retried request is a new request");
        for (Step step : steps) {
            assertStep(result, logs, step);
        }
        assertEquals(steps.size() - 1, logs.of("budget_exceeded").size(), result::toString);
        long servedTokens = openai.totalTokens() + anthropic.totalTokens();
        assertEquals(servedTokens, logs.sum("llm_call", "total_tokens"));
        assertEquals(openai.requestCount() + anthropic.requestCount(), logs.of("llm_call").size());
    }

    /**
     * On the app's openai-java and on the one the module was built on ({@code built-on}): both lie in the
     * openai-java plugin's range.
     */
    @ParameterizedTest
    @ValueSource(strings = {"app", "built-on"})
    void openAiOfficialIsChargedByTheOpenAiJavaPluginAlone(String openAiJava) throws Exception {
        Path jars = Path.of(System.getProperty("tokenguard.langchain4j.official.dir"));
        boolean builtOn = openAiJava.equals("built-on");
        String classPath = builtOn ? classPath(List.of(jars,
                Path.of(System.getProperty("tokenguard.langchain4j.official.openai.dir"))), false, true)
                : classPath(jars, false);
        String version = builtOn ? System.getProperty("tokenguard.langchain4j.official.openai.version")
                : openAiJavaVersion();
        List<Step> steps = List.of(OFFICIAL, OFFICIAL_STREAM);
        ForkedJvm.Result result = run("budget.max-tokens=" + LIMIT, classPath, steps);
        assertQuiet(result);
        // no langchain4j line: this module leaves retries to openai-java and never enters LangChain4j's loop
        assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java " + version,
                ForkedJvm.GOVERNING_OKHTTP), result.agentLines(), result::toString);
        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        for (Step step : steps) {
            assertStep(result, logs, step);
        }
        assertEquals(openai.requestCount(), logs.of("llm_call").size());
        assertEquals(openai.totalTokens(), logs.sum("llm_call", "total_tokens"));
        for (RecordedRequest request : openai.requests()) {
            assertTrue(request.header("x-stainless-lang") != null, "openai-java sent it: " + request);
        }
    }

    @Test
    void withTheLangChain4jPluginOffARefusalIsRetriedByLangChain4jButStillNeverSent() throws Exception {
        Path jars = Path.of(System.getProperty("tokenguard.langchain4j.newest.dir"));
        ForkedJvm.Result result = run("budget.max-tokens=" + LIMIT + ",instrumentation.langchain4j.enabled=false",
                classPath(jars, true), List.of(CHAT));
        assertQuiet(result);
        assertEquals(List.of("[tokenguard] TokenGuard: governing jdk-http-client " + jdkVersion()),
                result.agentLines(), result::toString);
        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        int ok = Integer.parseInt(stepLine(result, CHAT, "OK"));
        assertEquals(ok, openai.requestCount(), "the refused call sent nothing");
        assertEquals(ok, logs.of("llm_call").size());
        // LangChain4j's loop (maxRetries 2) tried the refused call three times: the HTTP layer refused each
        assertEquals(3, logs.of("budget_exceeded").size(), result::toString);
    }

    /** The openai-java on the application class path, e.g. {@code 4.101.0}. */
    static String openAiJavaVersion() {
        String name = ForkedJvm.applicationJar("openai-java-core").getFileName().toString();
        return name.substring("openai-java-core-".length(), name.length() - ".jar".length());
    }
}
