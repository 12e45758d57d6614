package dev.tokenguard.instrumentation.anthropic;

import dev.tokenguard.instrumentation.InstalledGovernor;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.AnthropicClientAsync;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClientAsync;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.RateLimitException;
import com.anthropic.errors.SseException;
import com.anthropic.helpers.BetaToolRunner;
import com.anthropic.models.beta.messages.BetaMessage;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.TextBlockParam;
import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.scenarios.AnthropicScenarios;
import dev.tokenguard.sample.scenarios.GovernedRunOracle;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.UsageMode;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The anthropic-java plugin in this JVM: the real SDK, the fake Anthropic server, the real engine and log. */
class AnthropicInstrumentationTest {
    static final String MODEL = "claude-haiku-4-5";
    static final String API_KEY = "sk-ant-secret-do-not-log";
    static FakeAnthropicServer server;

    @TempDir
    Path dir;
    AnthropicClient client;
    BudgetEngine engine;
    SessionLogWriter log;

    @BeforeAll
    static void startServer() {
        server = FakeAnthropicServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void start() {
        server.reset();
        client = AnthropicOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey(API_KEY).maxRetries(0).build();
    }

    @AfterEach
    void stop() {
        client.close();
        if (engine != null) {
            engine.close();
            log.close();
        }
    }

    void install(long maxTokens) {
        install(maxTokens, Governor.Settings.DEFAULT);
    }

    void install(long maxTokens, Governor.Settings settings) {
        InstalledGovernor governed = InstalledGovernor.threadBudget(dir, maxTokens, Telemetry.NONE, settings);
        log = governed.log();
        engine = governed.engine();
    }

    static MessageCreateParams params(String text) {
        return MessageCreateParams.builder().model(MODEL).maxTokens(1024).system("You summarise tickets.")
                .addUserMessage(text).build();
    }

    List<JsonNode> events(String event) throws Exception {
        for (JsonNode node : SessionLogEvents.all(dir)) {
            assertFalse(node.toString().contains(API_KEY), "the API key never reaches the log");
        }
        return SessionLogEvents.of(dir, event);
    }

    /** The one llm_call of the test, checked against the server's one request. */
    JsonNode theOnlyCallMatchesTheServer() throws Exception {
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size(), calls::toString);
        assertEquals(1, server.requestCount());
        RecordedRequest served = server.requests().get(0);
        JsonNode call = calls.get(0);
        assertEquals(served.usage().inputTokens(), call.get("input_tokens").asLong());
        assertEquals(served.usage().outputTokens(), call.get("output_tokens").asLong());
        assertEquals("anthropic", call.get("provider").asText());
        assertEquals("chat", call.get("operation").asText());
        assertEquals(MODEL, call.get("request_model").asText());
        assertEquals("provider", call.get("usage_source").asText());
        return call;
    }

    @Test
    void aSyncMessageIsChargedItsInputWithCacheReadsAndWrites() throws Exception {
        install(1_000_000);
        server.setCacheTokens(300, 40);
        Message message = client.messages().create(params("hello"));
        JsonNode call = theOnlyCallMatchesTheServer();
        long uncached = message.usage().inputTokens();
        assertEquals(uncached + 300 + 40, call.get("input_tokens").asLong());
        assertEquals(300, call.get("cache_read_tokens").asLong());
        assertEquals(40, call.get("cache_write_tokens").asLong());
        assertEquals("end_turn", message.stopReason().orElseThrow().asString());
        assertEquals("ok", call.get("status").asText());
    }

    @Test
    void anAsyncMessageIsChargedOnce() throws Exception {
        install(1_000_000);
        AnthropicClientAsync async = AnthropicOkHttpClientAsync.builder().baseUrl(server.baseUrl()).apiKey(API_KEY)
                .maxRetries(0).build();
        try {
            async.messages().create(params("async")).join();
        } finally {
            async.close();
        }
        theOnlyCallMatchesTheServer();
    }

    @Test
    void aStreamIsChargedOnceWithTheLastCumulativeDeltaAndTheAppSeesEveryEvent() throws Exception {
        install(1_000_000);
        server.setCacheTokens(50, 0);
        List<String> types = new ArrayList<>();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("stream"))) {
            stream.stream().forEach(e -> types.add(e.type().toString()));
        }
        assertEquals(List.of("message_start", "content_block_start", "content_block_delta"), types.subList(0, 3));
        assertEquals(2, types.stream().filter("message_delta"::equals).count(), types::toString);
        JsonNode call = theOnlyCallMatchesTheServer();
        assertTrue(call.get("streaming").asBoolean());
        assertEquals(50, call.get("cache_read_tokens").asLong());
    }

    @Test
    void aStreamClosedEarlyIsChargedTheReportedInputAndAnEstimate() throws Exception {
        install(1_000_000);
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("early"))) {
            var it = stream.stream().iterator();
            it.next();
            it.next();
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertEquals(server.requests().get(0).usage().inputTokens(), calls.get(0).get("input_tokens").asLong(),
                "the input message_start reported");
    }

    @Test
    void anErrorEventMidStreamFailsTheCallAndChargesWhatWasReported() throws Exception {
        install(1_000_000);
        server.failNextStreamMidway();
        assertThrows(SseException.class, () -> {
            try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("breaks"))) {
                stream.stream().forEach(e -> { });
            }
        });
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
        assertEquals(SseException.class.getName(), calls.get(0).get("error_type").asText());
        assertEquals(server.totalInputTokens(), calls.get(0).get("input_tokens").asLong());
    }

    @Test
    void anExhaustedBudgetRefusesSyncAsyncAndStreamingBeforeAnyRequestLeaves() throws Exception {
        install(1);
        client.messages().create(params("the only call"));
        assertEquals(1, server.requestCount());
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> client.messages().create(params("refused")));
        assertTrue(refusal.getMessage().endsWith("refused anthropic chat " + MODEL), refusal.getMessage());
        assertThrows(BudgetExhaustedException.class, () -> client.messages().createStreaming(params("refused")));
        assertThrows(BudgetExhaustedException.class, () -> client.beta().messages().create(
                com.anthropic.models.beta.messages.MessageCreateParams.builder().model(MODEL).maxTokens(100)
                        .addUserMessage("refused").build()));
        AnthropicClientAsync async = AnthropicOkHttpClientAsync.builder().baseUrl(server.baseUrl()).apiKey(API_KEY)
                .maxRetries(0).build();
        try {
            Supplier<Object> call = () -> async.messages().create(params("refused async")).join();
            RuntimeException thrown = assertThrows(RuntimeException.class, call::get);
            Throwable cause = thrown instanceof CompletionException ? thrown.getCause() : thrown;
            assertInstanceOf(BudgetExhaustedException.class, cause);
        } finally {
            async.close();
        }
        assertEquals(1, server.requestCount());
        assertEquals(4, events("budget_exceeded").size());
    }

    @Test
    void countTokensIsNeverCharged() throws Exception {
        install(1_000_000);
        long counted = client.messages().countTokens(MessageCountTokensParams.builder().model(MODEL)
                .addUserMessage("how many?").build()).inputTokens();
        assertTrue(counted > 0);
        assertEquals(1, server.countTokensRequests().size());
        assertEquals(0, events("llm_call").size());
    }

    @JsonClassDescription("Gets the weather in a city")
    static class GetWeather implements Supplier<String> {
        @JsonPropertyDescription("The city")
        public String location;

        @Override
        public String get() {
            return "Sunny in " + location;
        }
    }

    @Test
    void theBetaToolRunnerChargesEachOfItsRequestsOnce() throws Exception {
        install(1_000_000);
        BetaToolRunner runner = client.beta().messages().toolRunner(com.anthropic.models.beta.messages
                .MessageCreateParams.builder().model(MODEL).maxTokens(512).addUserMessage("Weather in Paris?")
                .addTool(GetWeather.class).build());
        List<BetaMessage> messages = new ArrayList<>();
        runner.forEach(messages::add);
        assertEquals(2, messages.size());
        assertEquals(2, server.requestCount());
        List<JsonNode> calls = events("llm_call");
        assertEquals(2, calls.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(server.requests().get(i).usage().inputTokens(), calls.get(i).get("input_tokens").asLong());
            assertEquals(server.requests().get(i).usage().outputTokens(), calls.get(i).get("output_tokens").asLong());
        }
    }

    @Test
    void aFailedCallIsLoggedAsAnErrorAndChargesNothing() throws Exception {
        install(1_000_000);
        server.setFailNext(429);
        assertThrows(RateLimitException.class, () -> client.messages().create(params("limited")));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
        assertTrue(calls.get(0).get("input_tokens").isNull());
    }

    @Test
    void aResponseWithoutUsageOrWithRenamedUsageIsChargedAnEstimateMarkedSo() throws Exception {
        install(1_000_000);
        for (UsageMode mode : List.of(UsageMode.ABSENT,
                UsageMode.NULL, UsageMode.RENAMED)) {
            server.setUsageMode(mode);
            client.messages().create(params("no usage " + mode));
            try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("s " + mode))) {
                stream.stream().forEach(e -> { });
            }
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(6, calls.size());
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
            assertTrue(call.get("output_tokens").asLong() > 0, call.toString());
            assertEquals("ok", call.get("status").asText());
        }
        long charged = events("llm_call").stream().mapToLong(c -> c.get("total_tokens").asLong()).sum();
        assertEquals(charged, calls.get(5).get("budget").get(0).get("used").asLong(), "every estimate was charged");
    }

    @Test
    void theBudgetNoteGoesIntoTheSystemPromptOfTheNextRequestOnlyAndIsLogged() throws Exception {
        install(2_000, new Governor.Settings(true, false, null));
        int calls = 0;
        while (events("budget_warning").isEmpty() && calls < 60) {
            client.messages().create(params("tell me about printers " + calls));
            calls++;
            assertFalse(server.lastRequest().body().contains("[TokenGuard]"), "no note before a threshold");
        }
        assertFalse(events("budget_warning").isEmpty(), "a threshold was crossed");
        // block form: one more text block after the app's own
        MessageCreateParams blocks = MessageCreateParams.builder().model(MODEL).maxTokens(64)
                .systemOfTextBlockParams(List.of(TextBlockParam.builder().text("Be brief.").build()))
                .addUserMessage("and scanners?").build();
        String before = blocks.toString();
        client.messages().create(blocks);
        JsonNode sent = new ObjectMapper().readTree(server.lastRequest().body());
        assertEquals(2, sent.get("system").size(), sent.toString());
        assertEquals("Be brief.", sent.get("system").get(0).get("text").asText());
        assertTrue(sent.get("system").get(1).get("text").asText().startsWith("[TokenGuard] Budget "), sent.toString());
        assertEquals(before, blocks.toString(), "the app's request object is not changed");
        client.messages().create(params("once only"));
        assertFalse(server.lastRequest().body().contains("[TokenGuard]"), "each crossing is injected once");
        List<JsonNode> logged = events("llm_call");
        assertEquals(calls + 2, logged.size());
        assertTrue(logged.get(calls).get("notice_injected").asBoolean());
        assertEquals(1, logged.stream().filter(c -> c.get("notice_injected").asBoolean()).count());
    }

    @Test
    void aStringSystemPromptGetsTheNoteAppended() throws Exception {
        install(2_000, new Governor.Settings(true, false, null));
        for (int i = 0; i < 60 && events("budget_warning").isEmpty(); i++) {
            client.messages().create(params("warm up"));
        }
        assertFalse(events("budget_warning").isEmpty(), "a threshold was crossed");
        client.messages().create(params("noted"));
        JsonNode sent = new ObjectMapper().readTree(server.lastRequest().body());
        String system = sent.get("system").asText();
        assertTrue(system.startsWith("You summarise tickets.\n\n[TokenGuard] Budget "), system);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sync", "async", "stream", "async-stream", "beta", "beta-stream"})
    void theSharedScenariosAreRefusedExactlyAtTheLimitInProcessAsInAForkedJvm(String scenario) throws Exception {
        install(1_200);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AnthropicScenarios.run(scenario, server.baseUrl(), 200, new PrintStream(out, true, StandardCharsets.UTF_8));
        GovernedRunOracle.assertRefusedExactlyAtTheLimit(out.toString(StandardCharsets.UTF_8).lines().toList(), dir,
                server.requests(), server.totalInputTokens(), server.totalOutputTokens(),
                new GovernedRunOracle.Expected(1_200, "anthropic", AnthropicScenarios.MODEL, scenario.contains("stream"),
                        false));
    }
}
