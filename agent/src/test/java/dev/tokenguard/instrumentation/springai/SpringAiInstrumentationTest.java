package dev.tokenguard.instrumentation.springai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.UsageMode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.anthropic.api.AnthropicApi;
import org.springframework.ai.openai.api.OpenAiApi;
import org.springframework.ai.openai.api.OpenAiApi.ChatCompletionChunk;
import org.springframework.ai.openai.api.OpenAiApi.ChatCompletionMessage;
import org.springframework.ai.openai.api.OpenAiApi.ChatCompletionRequest;
import org.springframework.util.LinkedMultiValueMap;
import reactor.core.publisher.Flux;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spring AI 1.x plugins in this JVM: the real {@code OpenAiApi} and {@code AnthropicApi} (WebClient and
 * RestClient on the JDK's HttpClient, as Spring picks without Reactor Netty), the fake servers, the real engine and
 * log. The call sites are driven exactly as the advice drives them: enter, replace the request, call the real
 * method, exit with what it returned.
 */
class SpringAiInstrumentationTest {
    @TempDir
    Path dir;
    FakeOpenAiServer openai;
    FakeAnthropicServer anthropic;
    BudgetEngine engine;
    SessionLogWriter log;
    Governor governor;

    void install(long maxTokens) {
        BudgetSpec spec = new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, maxTokens, null, null, null, null,
                new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE);
        log = new SessionLogWriter(dir, "test", ProcessHandle.current().pid(), Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(spec), Clock.systemUTC(), MdcSource.NONE, log.sessionListener());
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC());
    }

    @BeforeEach
    void start() {
        openai = FakeOpenAiServer.start();
        // the fake server reports a stream's usage only when asked: known so, the agent asks and hides its chunk
        UnaskedStreamUsage.shared().learn(UnaskedStreamUsage.endpoint(URI.create(openai.baseUrl())), false, true);
        anthropic = FakeAnthropicServer.start();
    }

    @AfterEach
    void stop() {
        openai.close();
        anthropic.close();
        if (engine != null) {
            engine.close();
            log.close();
        }
    }

    /** What the advice does around the hooked method: refuse, or govern the call of {@code method}. */
    Object governed(SdkPlugin plugin, String method, int parameters, Object api, Object request,
                    Function<Object, Object> invoke) {
        CallSite site = null;
        for (Hook hook : plugin.hooks()) {
            if (hook.methods().contains(method) && hook.parameterCount() == parameters) {
                site = hook.sites().create(method, governor);
            }
        }
        assertTrue(site != null, method);
        Object call = site.enter(api, request);
        if (call instanceof BudgetExhaustedException refusal) {
            throw refusal;
        }
        GovernedCall governedCall = (GovernedCall) call;
        Object sent = governedCall.request(request);
        Object returned;
        try {
            returned = invoke.apply(sent);
        } catch (RuntimeException e) {
            governedCall.exit(null, e);
            throw e;
        }
        return governedCall.exit(returned, null);
    }

    OpenAiApi openAiApi() {
        return OpenAiApi.builder().baseUrl("http://127.0.0.1:" + openai.port()).apiKey("sk-test-secret").build();
    }

    static ChatCompletionRequest chat(String text, boolean stream) {
        return new ChatCompletionRequest(List.of(new ChatCompletionMessage(text, ChatCompletionMessage.Role.USER)),
                "gpt-4o", 0.2, stream);
    }

    @SuppressWarnings("unchecked")
    Flux<ChatCompletionChunk> openAiStream(OpenAiApi api, ChatCompletionRequest request) {
        return (Flux<ChatCompletionChunk>) governed(SpringAiOpenAiPlugin.DECLARATION, "chatCompletionStream", 2, api,
                request, r -> api.chatCompletionStream((ChatCompletionRequest) r, new LinkedMultiValueMap<>()));
    }

    List<JsonNode> calls() throws Exception {
        return SessionLogEvents.of(dir, "llm_call");
    }

    void assertChargedWhatTheServersServed() throws Exception {
        List<JsonNode> calls = calls();
        assertEquals(openai.requestCount() + anthropic.requestCount(), calls.size());
        assertEquals(openai.totalInputTokens() + anthropic.totalInputTokens(),
                calls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(openai.totalOutputTokens() + anthropic.totalOutputTokens(),
                calls.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        for (JsonNode call : calls) {
            assertEquals("provider", call.get("usage_source").asText(), call::toString);
            assertEquals("ok", call.get("status").asText(), call::toString);
        }
    }

    @Test
    void aBlockingChatAndEmbeddingsAreChargedWhatTheServerReported() throws Exception {
        install(1_000_000);
        OpenAiApi api = openAiApi();
        Object entity = governed(SpringAiOpenAiPlugin.DECLARATION, "chatCompletionEntity", 2, api, chat("hello", false),
                r -> api.chatCompletionEntity((ChatCompletionRequest) r, new LinkedMultiValueMap<>()));
        assertEquals(200, ((org.springframework.http.ResponseEntity<?>) entity).getStatusCode().value());
        governed(SpringAiOpenAiPlugin.DECLARATION, "embeddings", 1, api,
                new OpenAiApi.EmbeddingRequest<>(List.of("refunds", "returns"), "text-embedding-3-small"),
                r -> api.embeddings((OpenAiApi.EmbeddingRequest<?>) r));
        assertEquals(2, openai.requestCount());
        assertChargedWhatTheServersServed();
        List<JsonNode> calls = calls();
        assertEquals(List.of("chat", "embeddings"), calls.stream().map(c -> c.get("operation").asText()).toList());
        assertEquals(List.of("gpt-4o", "text-embedding-3-small"),
                calls.stream().map(c -> c.get("request_model").asText()).toList());
        assertTrue(calls.get(1).get("output_tokens").isNull(), calls.get(1)::toString);
    }

    @Test
    void aResponseWithoutUsageIsChargedALocalEstimateMarkedSo() throws Exception {
        install(1_000_000);
        openai.setUsageMode(UsageMode.NULL);
        OpenAiApi api = openAiApi();
        governed(SpringAiOpenAiPlugin.DECLARATION, "chatCompletionEntity", 2, api,
                chat("a question whose answer reports no usage", false),
                r -> api.chatCompletionEntity((ChatCompletionRequest) r, new LinkedMultiValueMap<>()));
        List<JsonNode> calls = calls();
        assertEquals(1, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertTrue(calls.get(0).get("input_tokens").asLong() > 0, calls.get(0)::toString);
        assertTrue(calls.get(0).get("output_tokens").asLong() > 0, calls.get(0)::toString);
    }

    @Test
    void aStreamAsksForUsageHidesTheUsageChunkAndEachSubscriptionIsChargedOnce() throws Exception {
        install(1_000_000);
        Flux<ChatCompletionChunk> flux = openAiStream(openAiApi(), chat("stream please", true));
        assertEquals(0, openai.requestCount(), "nothing is sent before a subscription");
        List<ChatCompletionChunk> first = flux.collectList().block();
        assertTrue(openai.lastRequest().body().contains("\"stream_options\":{\"include_usage\":true}"),
                openai.lastRequest().body());
        assertFalse(first.isEmpty());
        for (ChatCompletionChunk chunk : first) {
            assertNull(chunk.usage(), chunk::toString);
            assertFalse(chunk.choices().isEmpty(), chunk::toString);
        }
        assertEquals(1, calls().size());
        List<ChatCompletionChunk> second = flux.collectList().block();
        assertEquals(first.size(), second.size());
        assertEquals(2, openai.requestCount());
        assertChargedWhatTheServersServed();
    }

    @Test
    void theFirstStreamToAnUnknownEndpointGoesOutAsBuiltAndIsEstimatedTheNextAsks() throws Exception {
        openai.close();
        openai = FakeOpenAiServer.start(); // an endpoint the agent has not seen a stream of yet
        install(1_000_000);
        List<ChatCompletionChunk> first = openAiStream(openAiApi(), chat("first stream", true)).collectList().block();
        List<ChatCompletionChunk> second = openAiStream(openAiApi(), chat("second stream", true)).collectList()
                .block();
        List<RecordedRequest> sent = openai.requests();
        assertEquals(2, sent.size());
        assertFalse(sent.get(0).body().contains("stream_options"), sent.get(0).body());
        assertFalse(sent.get(0).usageReported(), "not asked, the fake server reports no usage");
        assertTrue(sent.get(1).body().contains("\"stream_options\":{\"include_usage\":true}"), sent.get(1).body());
        assertTrue(sent.get(1).usageReported());
        assertEquals(first.size(), second.size(), "the app sees as many chunks either way");
        for (ChatCompletionChunk chunk : second) {
            assertNull(chunk.usage(), chunk::toString);
        }
        List<JsonNode> charged = calls();
        assertEquals(2, charged.size());
        assertEquals("estimated", charged.get(0).get("usage_source").asText());
        assertEquals("provider", charged.get(1).get("usage_source").asText());
        assertEquals(sent.get(1).usage().inputTokens(), charged.get(1).get("input_tokens").asLong());
        assertEquals(sent.get(1).usage().outputTokens(), charged.get(1).get("output_tokens").asLong());
    }

    @Test
    void aStreamWhoseAppAskedForUsageKeepsItsUsageChunk() throws Exception {
        install(1_000_000);
        ChatCompletionRequest asking = chat("my own usage", true)
                .streamOptions(ChatCompletionRequest.StreamOptions.INCLUDE_USAGE);
        List<ChatCompletionChunk> chunks = openAiStream(openAiApi(), asking).collectList().block();
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty(), last::toString);
        assertEquals(openai.lastRequest().usage().totalTokens(), last.usage().totalTokens().longValue());
        assertChargedWhatTheServersServed();
    }

    @Test
    void aLaterSubscriptionOnAnExhaustedBudgetIsRefusedAsTheFluxErrorWithNothingSent() throws Exception {
        install(1);
        Flux<ChatCompletionChunk> flux = openAiStream(openAiApi(), chat("only once", true));
        flux.collectList().block();
        assertEquals(1, openai.requestCount());
        assertThrows(BudgetExhaustedException.class, () -> flux.collectList().block());
        assertEquals(1, openai.requestCount());
        assertEquals(1, SessionLogEvents.of(dir, "budget_exceeded").size());
        BudgetExhaustedException atCallTime = assertThrows(BudgetExhaustedException.class,
                () -> openAiStream(openAiApi(), chat("refused", true)));
        assertTrue(atCallTime.getMessage().endsWith("refused openai chat gpt-4o"), atCallTime.getMessage());
        assertEquals(1, openai.requestCount());
        assertEquals(2, SessionLogEvents.of(dir, "budget_exceeded").size());
        assertEquals(1, calls().size());
    }

    @Test
    void aStreamCancelledAfterItsFirstChunkIsChargedOnceAnEstimate() throws Exception {
        install(1_000_000);
        List<ChatCompletionChunk> one = openAiStream(openAiApi(), chat("just the start", true)).take(1)
                .collectList().block();
        assertEquals(1, one.size());
        List<JsonNode> calls = calls();
        assertEquals(1, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertEquals(1, openai.requestCount());
    }

    @Test
    void anAnthropicStreamIsChargedItsLastCumulativeCountsCacheIncluded() throws Exception {
        install(1_000_000);
        anthropic.setCacheTokens(5, 7);
        AnthropicApi api = AnthropicApi.builder().baseUrl("http://127.0.0.1:" + anthropic.port())
                .apiKey("sk-ant-test-secret").build();
        AnthropicApi.ChatCompletionRequest request = AnthropicApi.ChatCompletionRequest.builder()
                .model("claude-sonnet-4-5").maxTokens(200).stream(true)
                .messages(List.of(new AnthropicApi.AnthropicMessage(
                        List.of(new AnthropicApi.ContentBlock("Where is my parcel?")), AnthropicApi.Role.USER)))
                .build();
        Object flux = governed(SpringAiAnthropicPlugin.DECLARATION, "chatCompletionStream", 2, api, request,
                r -> api.chatCompletionStream((AnthropicApi.ChatCompletionRequest) r, new LinkedMultiValueMap<>()));
        assertInstanceOf(Flux.class, flux);
        ((Flux<?>) flux).collectList().block();
        assertEquals(1, anthropic.requestCount());
        assertChargedWhatTheServersServed();
        JsonNode call = calls().get(0);
        assertEquals(5, call.get("cache_read_tokens").asLong());
        assertEquals(7, call.get("cache_write_tokens").asLong());
        assertEquals("anthropic", call.get("provider").asText());
    }
}
