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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Spring Boot 3 service on Spring AI 1.1 ({@code it-apps/spring-ai1-boot3}), run as it ships:
 * {@code java -javaagent:tokenguard-agent.jar -jar app-exec.jar}, its Spring AI jars nested in the Boot jar. Spring
 * AI's own clients ({@code OpenAiApi}, {@code AnthropicApi}) are governed at the framework layer: every physical
 * request the fake servers count is one {@code llm_call}, with the tokens the servers counted, whether WebClient and
 * RestClient run on Reactor Netty or on the JDK's HttpClient (which the HTTP layer watches and must leave alone);
 * a refusal reaches the app before anything is sent and Spring AI's RetryTemplate does not retry it.
 */
class SpringAi1Boot3AgentIT {
    static final Path JAR = Path.of(System.getProperty("tokenguard.springai1.jar",
            "../it-apps/spring-ai1-boot3/target/tokenguard-it-spring-ai1-boot3-0.1.0-SNAPSHOT-exec.jar"));
    static final String SPRING_AI_VERSION = "1.1.2";
    static final List<String> STEPS = List.of("openai-call", "openai-stream", "openai-stream-usage", "openai-embed",
            "openai-api-resubscribe", "anthropic-call", "anthropic-stream", "anthropic-tool", "anthropic-stream-tool");
    /**
     * Requests per step, worked out from the steps: the resubscribed Flux sends twice, the blocking tool loop twice;
     * the streamed tool loop sends once plus once per tool execution ({@link #anthropicRequests}).
     */
    static final int OPENAI_REQUESTS = 1 + 1 + 1 + 1 + 2;
    static final int ANTHROPIC_REQUESTS_BEFORE_STREAM_TOOL = 1 + 1 + 2;
    static final String GOVERNING_OPENAI = "[tokenguard] TokenGuard: governing spring-ai-openai " + SPRING_AI_VERSION;
    static final String GOVERNING_ANTHROPIC = "[tokenguard] TokenGuard: governing spring-ai-anthropic "
            + SPRING_AI_VERSION;
    static final String GOVERNING_JDK_HTTP = "[tokenguard] TokenGuard: governing jdk-http-client "
            + Runtime.version().toString().split("\\+")[0];
    /** Spring Boot loads the JDK's HttpURLConnection, whose plugin then says it governs it (nothing is sent on it). */
    static final String GOVERNING_URL_CONNECTION = "[tokenguard] TokenGuard: governing http-url-connection "
            + Runtime.version().toString().split("\\+")[0];
    static final List<String> JDK_CLIENTS = List.of("--spring.http.client.factory=jdk",
            "--spring.http.reactiveclient.connector=jdk");

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

    /** Runs the service with {@code steps}; the fake servers are also the HTTP layer's configured endpoints. */
    ForkedJvm.Result run(String agentArgs, List<String> steps, List<String> appArgs) throws Exception {
        assertTrue(Files.isRegularFile(JAR), "the Spring Boot test app is not built: " + JAR);
        List<String> args = new ArrayList<>(List.of("--spring.ai.openai.base-url=http://127.0.0.1:" + openai.port(),
                "--spring.ai.anthropic.base-url=http://127.0.0.1:" + anthropic.port(),
                "--steps=" + String.join(",", steps)));
        args.addAll(appArgs);
        return ForkedJvm.runJar(work, agentArgs, List.of("-Dtokenguard.http.endpoints=" + openai.baseUrl()
                + "=openai," + anthropic.baseUrl() + "=anthropic"), JAR, args.toArray(String[]::new));
    }

    SessionLogs logs() throws Exception {
        return SessionLogs.read(work.resolve("tokenguard-sessions"));
    }

    @Test
    void chargesEveryRequestOnceOnReactorNettyRetriesIncluded() throws Exception {
        openai.setFailNext(503);
        anthropic.setFailNext(503);
        ForkedJvm.Result result = run("", STEPS, List.of());
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(GOVERNING_URL_CONNECTION, GOVERNING_ANTHROPIC, GOVERNING_OPENAI),
                result.agentLines().stream().sorted().toList(),
                result::toString);
        assertStepsOk(result);
        // each 503 was retried by Spring AI: one more physical request per server, failed, logged as such
        assertEquals(OPENAI_REQUESTS + 1, openai.requestCount(), openai::toString);
        assertEquals(anthropicRequests(result) + 1, anthropic.requestCount(), anthropic::toString);
        assertChargedAsServed(logs(), 2);
        assertStreamsAsTheAppWouldSeeThem(result);
    }

    @Test
    void onTheJdkHttpClientTheHttpLayerLeavesFrameworkRequestsAlone() throws Exception {
        ForkedJvm.Result result = run("", STEPS, JDK_CLIENTS);
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(GOVERNING_URL_CONNECTION, GOVERNING_JDK_HTTP, GOVERNING_ANTHROPIC, GOVERNING_OPENAI),
                result.agentLines().stream().sorted().toList(), result::toString);
        assertStepsOk(result);
        assertEquals(OPENAI_REQUESTS, openai.requestCount(), openai::toString);
        assertEquals(anthropicRequests(result), anthropic.requestCount(), anthropic::toString);
        assertChargedAsServed(logs(), 0);
        assertStreamsAsTheAppWouldSeeThem(result);
    }

    @Test
    void withTheSpringAiPluginsOffTheJdkHttpLayerChargesEachRequestInstead() throws Exception {
        ForkedJvm.Result result = run("instrumentation.spring-ai-openai.enabled=false,"
                + "instrumentation.spring-ai-anthropic.enabled=false", STEPS, JDK_CLIENTS);
        assertEquals(0, result.exitCode(), result::toString);
        // Spring's JdkClientHttpConnector hands the JDK a body publisher of its own, which the HTTP layer does not
        // read: it cannot ask for the usage of the stream whose app did not, and charges that stream an estimate
        // without an input count, which it reports once
        assertEquals(List.of(GOVERNING_URL_CONNECTION, GOVERNING_JDK_HTTP,
                "[tokenguard] TokenGuard: a response from openai reported unusable"
                + " token counts (no input token count); the call is logged without them"), result.agentLines(),
                result::toString);
        assertStepsOk(result);
        assertEquals(OPENAI_REQUESTS, openai.requestCount(), openai::toString);
        assertEquals(anthropicRequests(result), anthropic.requestCount(), anthropic::toString);
        SessionLogs logs = logs();
        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(OPENAI_REQUESTS + anthropicRequests(result), calls.size(), logs.events::toString);
        assertEquals(OPENAI_REQUESTS, calls.stream().filter(c -> c.path("provider").asText().equals("openai")).count());
        assertEquals(anthropicRequests(result),
                calls.stream().filter(c -> c.path("provider").asText().equals("anthropic")).count());
        // the answers that reported their usage are charged what the server counted; the others are estimated
        List<RecordedRequest> served = new ArrayList<>(openai.requests());
        served.addAll(anthropic.requests());
        assertEquals(OPENAI_REQUESTS + anthropicRequests(result), served.size());
        List<RecordedRequest> reported = served.stream().filter(RecordedRequest::usageReported).toList();
        assertEquals(served.size() - reported.size(),
                calls.stream().filter(c -> c.path("usage_source").asText().equals("estimated")).count());
        assertEquals(reported.stream().mapToLong(r -> r.usage().totalTokens()).sum(),
                calls.stream().filter(c -> c.path("usage_source").asText().equals("provider"))
                        .mapToLong(c -> c.path("total_tokens").asLong()).sum(), logs.events::toString);
    }

    @Test
    void refusesBeforeSendingAndSpringAiDoesNotRetryTheRefusal() throws Exception {
        // the first call is admitted (nothing used yet) and exhausts a budget of one token; every later one is refused
        List<String> steps = List.of("openai-call", "openai-call", "openai-stream", "openai-embed",
                "openai-api-resubscribe", "anthropic-call", "anthropic-stream", "anthropic-tool",
                "anthropic-stream-tool");
        ForkedJvm.Result result = run("budget.max-tokens=1", steps, List.of());
        assertEquals(0, result.exitCode(), result::toString);
        List<String> lines = result.lines("STEP ");
        assertEquals(steps.size(), lines.size(), result::toString);
        assertTrue(lines.get(0).startsWith("STEP openai-call ok "), result::toString);
        for (int i = 1; i < steps.size(); i++) {
            assertEquals("STEP " + steps.get(i) + " refused dev.tokenguard.api.BudgetExhaustedException direct",
                    lines.get(i), result::toString);
        }
        assertEquals(1, openai.requestCount(), openai::toString);
        assertEquals(0, anthropic.requestCount(), anthropic::toString);
        SessionLogs logs = logs();
        assertEquals(1, logs.of("llm_call").size());
        // one refusal per app call: RetryTemplate gave up on the first attempt, the tool loop never started
        assertEquals(steps.size() - 1, logs.of("budget_exceeded").size(), logs.events::toString);
        assertEquals(openai.totalTokens(), logs.sum("llm_call", "total_tokens"));
    }

    private static void assertStepsOk(ForkedJvm.Result result) {
        List<String> lines = result.lines("STEP ");
        assertEquals(STEPS.size(), lines.size(), result::toString);
        for (int i = 0; i < STEPS.size(); i++) {
            assertTrue(lines.get(i).startsWith("STEP " + STEPS.get(i) + " ok "), result::toString);
        }
        assertTrue(lines.get(7).startsWith("STEP anthropic-tool ok toolCalls=1 "), result::toString);
        assertTrue(lines.get(8).startsWith("STEP anthropic-stream-tool ok toolCalls="), result::toString);
    }

    /**
     * The Anthropic requests of a run of {@link #STEPS}. Spring AI 1.1's streamed tool loop executes the tool for each
     * streamed response that carries the {@code tool_use} stop reason (with Anthropic's events, more than one), and
     * each execution sends the conversation back in a request of its own; the app counts the executions.
     */
    static int anthropicRequests(ForkedJvm.Result result) {
        String line = result.lines("STEP anthropic-stream-tool ok toolCalls=").get(0);
        int toolCalls = Integer.parseInt(line.substring("STEP anthropic-stream-tool ok toolCalls=".length(),
                line.indexOf(' ', "STEP anthropic-stream-tool ok toolCalls=".length())));
        assertTrue(toolCalls >= 1, line);
        return ANTHROPIC_REQUESTS_BEFORE_STREAM_TOOL + 1 + toolCalls;
    }

    /**
     * One {@code llm_call} per request each server counted, failed ones included; every answer that reported its
     * usage charged what the server counted, per provider; the one that did not (the first OpenAI stream, which
     * goes out as the app built it, to learn whether the endpoint sends usage unasked) estimated; no refusal.
     */
    private static void assertChargedAsServed(SessionLogs logs, int failed) {
        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(openai.requestCount() + anthropic.requestCount(), calls.size(), logs.events::toString);
        assertEquals(0, logs.of("budget_exceeded").size());
        long openAiIn = 0, openAiOut = 0, anthropicIn = 0, anthropicOut = 0, errors = 0, estimated = 0;
        for (JsonNode call : calls) {
            boolean isOpenAi = call.path("provider").asText().equals("openai");
            assertTrue(isOpenAi || call.path("provider").asText().equals("anthropic"), call::toString);
            if (call.path("status").asText().equals("error")) {
                errors++;
                continue;
            }
            if (call.path("usage_source").asText().equals("estimated")) {
                estimated++;
                assertTrue(isOpenAi && call.path("streaming").asBoolean(), call::toString);
                continue;
            }
            assertEquals("provider", call.path("usage_source").asText(), call::toString);
            if (isOpenAi) {
                openAiIn += call.path("input_tokens").asLong();
                openAiOut += call.path("output_tokens").asLong();
            } else {
                anthropicIn += call.path("input_tokens").asLong();
                anthropicOut += call.path("output_tokens").asLong();
            }
        }
        assertEquals(failed, errors, logs.events::toString);
        List<RecordedRequest> openAiReported = openai.requests().stream()
                .filter(r -> r.status() == 200 && r.usageReported()).toList();
        long openAiUnreported = openai.requests().stream().filter(r -> r.status() == 200 && !r.usageReported()).count();
        assertEquals(1, openAiUnreported, openai::toString);
        assertEquals(openAiUnreported, estimated, logs.events::toString);
        assertEquals(openAiReported.stream().mapToLong(r -> r.usage().inputTokens()).sum(), openAiIn);
        assertEquals(openAiReported.stream().mapToLong(r -> r.usage().outputTokens()).sum(), openAiOut);
        assertEquals(anthropic.totalInputTokens(), anthropicIn);
        assertEquals(anthropic.totalOutputTokens(), anthropicOut);
    }

    /**
     * The first stream whose app did not ask for usage went out as the app built it (the endpoint was not known yet;
     * the server sent no usage, so from then on the agent asks), and the app saw no usage; the stream whose app asked
     * saw the usage the server reported; the later stream that did not ask was sent asking, its usage chunk hidden.
     */
    private static void assertStreamsAsTheAppWouldSeeThem(ForkedJvm.Result result) {
        RecordedRequest plain = onlyRequestContaining("reset the password");
        RecordedRequest asked = onlyRequestContaining("billed twice");
        assertFalse(plain.body().contains("include_usage"), plain.body());
        assertFalse(plain.usageReported(), plain::toString);
        assertTrue(result.lines("STEP openai-stream ok ").get(0).endsWith(" usage=0"), result::toString);
        assertTrue(result.lines("STEP openai-stream-usage ok ").get(0).endsWith(" usage=" + asked.usage().totalTokens()),
                result::toString);
        List<String> resubscribed = result.lines("STEP openai-api-resubscribe ok ");
        assertEquals(1, resubscribed.size(), result::toString);
    }

    private static RecordedRequest onlyRequestContaining(String text) {
        List<RecordedRequest> found = openai.requests().stream().filter(r -> r.body().contains(text)).toList();
        assertEquals(1, found.size(), found::toString);
        return found.get(0);
    }
}
