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

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag in front of a Spring Boot 4 executable jar
 * ({@code java -javaagent:... -jar app.jar}: Boot's {@code JarLauncher}, the SDKs in nested jars) that calls
 * OpenAI and Anthropic through Spring AI 2.0, which runs on openai-java and anthropic-java. Each physical request
 * is charged once, by the SDK layer (the OkHttp layer under the SDKs is told about both fake servers and must stay
 * out), a refusal reaches the app as {@code BudgetExhaustedException} before anything is sent and is not retried.
 */
class SpringAi2Boot4AgentIT {
    static final Path APP_JAR = Path.of(System.getProperty("tokenguard.springai2.jar",
            "../it-apps/spring-ai2-boot4/target/tokenguard-spring-ai2-boot4-exec.jar")).toAbsolutePath().normalize();
    static final String REFUSAL = "dev.tokenguard.api.BudgetExhaustedException";
    static final List<String> ALL_STEPS = List.of("openai-call", "openai-stream", "openai-embed", "openai-tools",
            "anthropic-call", "anthropic-stream", "anthropic-tools");

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

    @Test
    void everyRequestOfEveryCallShapeIsChargedOnceByTheSdkLayer() throws Exception {
        // the first OpenAI request fails with a 500; the SDK under Spring AI retries it (a new physical request)
        openAi.setFailNext(500);
        ForkedJvm.Result result = run("", ALL_STEPS);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing anthropic-java " + nestedVersion("anthropic-java-core"),
                        SpringAi1Boot3AgentIT.GOVERNING_URL_CONNECTION, ForkedJvm.GOVERNING_OKHTTP,
                        "[tokenguard] TokenGuard: governing openai-java " + nestedVersion("openai-java-core")),
                result.agentLines().stream().sorted().toList(), result::toString);
        List<String> ok = result.lines("OK ");
        assertEquals(ALL_STEPS.size(), ok.size(), result::toString);
        for (int i = 0; i < ok.size(); i++) {
            assertTrue(ok.get(i).startsWith("OK " + ALL_STEPS.get(i) + " "), ok.get(i));
        }
        assertEquals(2, result.lines("TOOL currentWeather ").size(), "each tool loop ran its tool once");

        // by hand: call (a 500, then its retry), stream, embeddings, the tool loop's two requests; Anthropic:
        // call, stream, the tool loop's two requests
        assertEquals(6, openAi.requestCount(), openAi.requests()::toString);
        assertEquals(4, anthropic.requestCount(), anthropic.requests()::toString);
        List<RecordedRequest> openAiRequests = openAi.requests();
        assertEquals(500, openAiRequests.get(0).status());
        assertEquals(openAiRequests.get(0).body(), openAiRequests.get(1).body(), "the retry sends the same request");
        List<RecordedRequest> streams = openAiRequests.stream().filter(RecordedRequest::streaming).toList();
        assertEquals(1, streams.size());
        assertTrue(streams.get(0).usageReported() && streams.get(0).body().contains("\"include_usage\":true"),
                "the agent asked for the stream's usage, which Spring AI does not by default: " + streams.get(0));

        SessionLogs logs = logs();
        assertOneSessionOfTheMainThread(logs);
        assertEquals(0, logs.of("budget_exceeded").size());
        List<JsonNode> openAiCalls = calls(logs, "openai");
        List<JsonNode> anthropicCalls = calls(logs, "anthropic");
        assertEquals(9, logs.of("llm_call").size(), "one llm_call per answered request, none from the HTTP layer");
        assertCharged(openAiCalls, answered(openAi), openAi.totalInputTokens(), openAi.totalOutputTokens());
        assertCharged(anthropicCalls, answered(anthropic), anthropic.totalInputTokens(),
                anthropic.totalOutputTokens());
        assertEquals(List.of("chat", "chat", "embeddings", "chat", "chat"), field(openAiCalls, "operation"));
        assertEquals(List.of("false", "true", "false", "false", "false"), field(openAiCalls, "streaming"));
        assertEquals(List.of("false", "true", "false", "false"), field(anthropicCalls, "streaming"));
        for (JsonNode call : logs.of("llm_call")) {
            assertEquals("provider", call.get("usage_source").asText(), call::toString);
            assertEquals("ok", call.get("status").asText(), call::toString);
        }
    }

    @Test
    void aRefusalReachesTheAppBeforeAnythingIsSentAndIsNeverRetried() throws Exception {
        // a call, then a tool loop whose first request exhausts the budget: its second request is refused
        List<String> steps = new ArrayList<>(List.of("openai-call", "openai-tools"));
        steps.addAll(ALL_STEPS);
        ForkedJvm.Result result = run("budget.max-tokens=100", steps);
        assertEquals(0, result.exitCode(), result::toString);

        // the server's own figures: the first answer left the budget open, the tool call exhausted it
        List<RecordedRequest> served = openAi.requests();
        assertEquals(2, served.size(), served::toString);
        assertTrue(served.get(0).usage().totalTokens() < 100, served::toString);
        assertTrue(served.get(0).usage().totalTokens() + served.get(1).usage().totalTokens() >= 100, served::toString);
        assertTrue(served.get(1).body().contains("\"tools\""), served::toString);
        assertEquals(0, anthropic.requestCount(), "nothing was sent after the refusal");
        assertEquals(1, result.lines("TOOL currentWeather ").size(), "the tool ran; the request with its result was refused");

        assertEquals(List.of("openai-call"), result.lines("OK ").stream().map(l -> l.split(" ")[1]).toList(),
                result::toString);
        List<String> refusedSteps = steps.subList(1, steps.size());
        List<String> errors = result.lines("ERROR ");
        assertEquals(refusedSteps.size(), errors.size(), result::toString);
        for (int i = 0; i < errors.size(); i++) {
            // thrown as it is by ChatClient's call() (tool loop included), embed() and the stream's block()
            assertEquals("ERROR " + refusedSteps.get(i) + " " + REFUSAL + " causes=", errors.get(i));
        }

        SessionLogs logs = logs();
        assertOneSessionOfTheMainThread(logs);
        assertEquals(refusedSteps.size(), logs.of("budget_exceeded").size(), "one refusal per app call, no retries");
        assertEquals(2, logs.of("llm_call").size());
        assertEquals(openAi.totalTokens(), logs.sum("llm_call", "total_tokens"));
        List<String> refused = new ArrayList<>();
        for (JsonNode e : logs.of("budget_exceeded")) {
            refused.add(e.get("provider").asText());
        }
        assertEquals(List.of("openai", "openai", "openai", "openai", "openai", "anthropic", "anthropic", "anthropic"),
                refused);
    }

    @Test
    void withTheSdkPluginsOffTheOkHttpLayerChargesEachRequestOnceInstead() throws Exception {
        List<String> steps = List.of("openai-call", "openai-stream", "anthropic-call", "anthropic-stream");
        // the global scope: the OkHttp layer begins an async request on the thread that enqueues it, which for
        // Spring AI's streams is not the app's thread
        ForkedJvm.Result result = run("budget.scope=global,instrumentation.openai-java.enabled=false,"
                + "instrumentation.anthropic-java.enabled=false", steps);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(SpringAi1Boot3AgentIT.GOVERNING_URL_CONNECTION, ForkedJvm.GOVERNING_OKHTTP),
                result.agentLines(), result::toString);
        assertEquals(steps.size(), result.lines("OK ").size(), result::toString);
        assertEquals(2, openAi.requestCount());
        assertEquals(2, anthropic.requestCount());
        SessionLogs logs = logs();
        assertEquals(4, logs.of("llm_call").size());
        assertCharged(calls(logs, "openai"), answered(openAi), openAi.totalInputTokens(), openAi.totalOutputTokens());
        assertCharged(calls(logs, "anthropic"), answered(anthropic), anthropic.totalInputTokens(),
                anthropic.totalOutputTokens());
    }

    // ---- the forked app ----

    /**
     * {@code java -javaagent:<agent>=<agentArgs> -jar <app>}, with both fake servers configured as Spring AI's base
     * URLs and as endpoints the raw-HTTP layer governs (so that it would charge them, were it not to stay out).
     */
    ForkedJvm.Result run(String agentArgs, List<String> steps) throws Exception {
        assertTrue(Files.isRegularFile(ForkedJvm.AGENT_JAR), "agent jar not built: " + ForkedJvm.AGENT_JAR);
        assertTrue(Files.isRegularFile(APP_JAR), "Spring AI 2 app not built: " + APP_JAR);
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + ForkedJvm.AGENT_JAR + (agentArgs.isEmpty() ? "" : "=" + agentArgs),
                "-Dtokenguard.http.endpoints=" + openAi.baseUrl() + "=openai," + anthropic.baseUrl() + "=anthropic",
                "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-jar", APP_JAR.toString(),
                "--spring.ai.openai.base-url=" + openAi.baseUrl(),
                "--spring.ai.anthropic.base-url=" + anthropic.baseUrl()));
        command.addAll(steps);
        ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_")
                || k.startsWith("OPENAI_") || k.startsWith("ANTHROPIC_") || k.startsWith("SPRING_"));
        Path out = work.resolve("stdout.txt");
        Path err = work.resolve("stderr.txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the Spring AI 2 app did not end within 180 s");
        }
        return new ForkedJvm.Result(process.exitValue(), Files.readAllLines(out, StandardCharsets.UTF_8),
                Files.readAllLines(err, StandardCharsets.UTF_8));
    }

    /** The version of a library inside the app's jar, read from its nested jar's name, e.g. {@code 4.49.0}. */
    static String nestedVersion(String artifact) throws Exception {
        Pattern name = Pattern.compile("BOOT-INF/lib/" + Pattern.quote(artifact) + "-([0-9][^/]*)\\.jar");
        List<String> versions = new ArrayList<>();
        try (ZipFile jar = new ZipFile(APP_JAR.toFile())) {
            jar.stream().forEach(entry -> {
                Matcher m = name.matcher(entry.getName());
                if (m.matches()) {
                    versions.add(m.group(1));
                }
            });
        }
        assertEquals(1, versions.size(), artifact + " in " + APP_JAR);
        return versions.get(0);
    }

    // ---- oracles ----

    SessionLogs logs() throws Exception {
        return SessionLogs.read(work.resolve("tokenguard-sessions"));
    }

    /**
     * Every charge and refusal in the budget of the thread that called Spring AI, streams included: Spring AI
     * subscribes its streams' SDK calls on the subscribing thread (the app's {@code block()}).
     */
    static void assertOneSessionOfTheMainThread(SessionLogs logs) {
        assertEquals(1, logs.files.size(), logs.files::toString);
        List<JsonNode> starts = logs.of("session_start");
        assertEquals(1, starts.size());
        assertEquals("main", starts.get(0).get("thread").asText());
    }

    static List<JsonNode> calls(SessionLogs logs, String provider) {
        return logs.of("llm_call").stream().filter(c -> c.path("provider").asText().equals(provider)).toList();
    }

    static List<RecordedRequest> answered(FakeOpenAiServer server) {
        return server.requests().stream().filter(RecordedRequest::answered).toList();
    }

    static List<RecordedRequest> answered(FakeAnthropicServer server) {
        return server.requests().stream().filter(RecordedRequest::answered).toList();
    }

    static List<String> field(List<JsonNode> calls, String field) {
        return calls.stream().map(c -> c.path(field).asText()).toList();
    }

    /** One llm_call per answered request, in order, each charged the tokens the server served; totals equal. */
    static void assertCharged(List<JsonNode> calls, List<RecordedRequest> answered, long input, long output) {
        assertEquals(answered.size(), calls.size(), calls::toString);
        for (int i = 0; i < calls.size(); i++) {
            assertEquals(answered.get(i).usage().totalTokens(), calls.get(i).get("total_tokens").asLong(),
                    "request " + (i + 1) + ": " + calls.get(i));
        }
        assertEquals(input, calls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(output, calls.stream().mapToLong(c -> c.path("output_tokens").asLong()).sum());
    }
}
