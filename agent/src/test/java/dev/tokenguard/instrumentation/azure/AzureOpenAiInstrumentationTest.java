package dev.tokenguard.instrumentation.azure;

import dev.tokenguard.instrumentation.InstalledGovernor;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;
import com.azure.ai.openai.OpenAIAsyncClient;
import com.azure.ai.openai.OpenAIClient;
import com.azure.ai.openai.OpenAIClientBuilder;
import com.azure.ai.openai.models.ChatCompletionStreamOptions;
import com.azure.ai.openai.models.ChatCompletions;
import com.azure.ai.openai.models.ChatCompletionsOptions;
import com.azure.ai.openai.models.ChatRequestMessage;
import com.azure.ai.openai.models.ChatRequestSystemMessage;
import com.azure.ai.openai.models.ChatRequestUserMessage;
import com.azure.ai.openai.models.Embeddings;
import com.azure.ai.openai.models.EmbeddingsOptions;
import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.http.policy.AddHeadersPolicy;
import com.azure.core.http.policy.FixedDelay;
import com.azure.core.http.policy.RetryPolicy;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.UsageMode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The azure-ai-openai plugin in this JVM: the real SDK on its default HTTP client (Netty), the fake OpenAI server
 * answering Azure OpenAI's paths, the real engine and log.
 */
class AzureOpenAiInstrumentationTest {
    static final String DEPLOYMENT = "gpt-4o-mini";
    static final String API_KEY = "azure-secret-do-not-log";
    static FakeOpenAiServer server;

    @TempDir
    Path dir;
    OpenAIClient client;
    OpenAIAsyncClient async;
    BudgetEngine engine;
    SessionLogWriter log;

    @BeforeAll
    static void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void start() {
        server.reset();
        // the loopback server is no Azure host: taught, as a first probing stream would, that it sends no usage
        // unasked (aFirstStreamToAnEndpointNotKnownYetGoesOutAsTheAppBuiltIt probes one of its own)
        UnaskedStreamUsage.shared().learn(UnaskedStreamUsage.endpoint(URI.create(server.azureEndpoint())), false, true);
        OpenAIClientBuilder builder = builder(new NettyAsyncHttpClientBuilder().build());
        client = builder.buildClient();
        async = builder.buildAsyncClient();
    }

    /**
     * A client on {@code transport} (both Netty and the JDK client are on this class path, so it is named).
     * azure-core sends a key credential over HTTPS only, and the loopback server speaks plain HTTP: the key goes as
     * the header the credential would have set.
     */
    static OpenAIClientBuilder builder(HttpClient transport) {
        return new OpenAIClientBuilder().endpoint(server.azureEndpoint()).httpClient(transport)
                .addPolicy(new AddHeadersPolicy(new HttpHeaders().set("api-key", API_KEY)))
                .retryPolicy(new RetryPolicy(new FixedDelay(0, Duration.ZERO)));
    }

    @AfterEach
    void stop() {
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

    static ChatCompletionsOptions chat(String text) {
        List<ChatRequestMessage> messages = List.of(new ChatRequestSystemMessage("You summarise tickets."),
                new ChatRequestUserMessage(text));
        return new ChatCompletionsOptions(messages);
    }

    List<JsonNode> events(String event) throws Exception {
        for (JsonNode node : SessionLogEvents.all(dir)) {
            assertFalse(node.toString().contains(API_KEY), "the API key never reaches the log");
        }
        return SessionLogEvents.of(dir, event);
    }

    /** Each llm_call against the server's request of the same position: one charge per request, its counts. */
    List<JsonNode> callsMatchTheServer(int expected) throws Exception {
        List<JsonNode> calls = events("llm_call");
        assertEquals(expected, calls.size(), calls::toString);
        assertEquals(expected, server.requestCount());
        for (int i = 0; i < expected; i++) {
            RecordedRequest served = server.requests().get(i);
            JsonNode call = calls.get(i);
            assertTrue(served.path().startsWith("/openai/deployments/" + DEPLOYMENT + "/"), served.path());
            assertEquals(served.usage().inputTokens(), call.get("input_tokens").asLong(), call.toString());
            assertEquals("azure.ai.openai", call.get("provider").asText());
            assertEquals(DEPLOYMENT, call.get("request_model").asText());
            assertEquals("provider", call.get("usage_source").asText());
        }
        return calls;
    }

    @Test
    void aChatCompletionIsChargedOnceWithTheServersCounts() throws Exception {
        install(1_000_000);
        ChatCompletions completions = client.getChatCompletions(DEPLOYMENT, chat("hello"));
        JsonNode call = callsMatchTheServer(1).get(0);
        RecordedRequest served = server.requests().get(0);
        assertEquals(served.usage().outputTokens(), call.get("output_tokens").asLong());
        assertEquals(completions.getUsage().getTotalTokens(), call.get("total_tokens").asLong());
        assertEquals("chat", call.get("operation").asText());
        assertFalse(call.get("streaming").asBoolean());
        assertEquals("ok", call.get("status").asText());
        assertEquals(API_KEY, served.header("api-key"), "the SDK sent its key");
    }

    @Test
    void anAsyncChatCompletionIsChargedOnce() throws Exception {
        install(1_000_000);
        ChatCompletions completions = async.getChatCompletions(DEPLOYMENT, chat("async")).block();
        JsonNode call = callsMatchTheServer(1).get(0);
        assertEquals(server.requests().get(0).usage().outputTokens(), call.get("output_tokens").asLong());
        assertEquals(completions.getUsage().getTotalTokens(), call.get("total_tokens").asLong());
    }

    @Test
    void aStreamAsksForUsageHidesTheUsageChunkAndIsChargedOnceWithTheProvidersCounts() throws Exception {
        install(1_000_000);
        List<ChatCompletions> chunks = new ArrayList<>();
        client.getChatCompletionsStream(DEPLOYMENT, chat("stream")).forEach(chunks::add);
        assertFalse(chunks.isEmpty());
        for (ChatCompletions chunk : chunks) {
            assertNull(chunk.getUsage(), "the app sees no usage chunk it did not ask for");
        }
        assertTrue(server.lastRequest().body().contains("\"include_usage\":true"), server.lastRequest().body());
        JsonNode call = callsMatchTheServer(1).get(0);
        assertEquals(server.requests().get(0).usage().outputTokens(), call.get("output_tokens").asLong());
        assertTrue(call.get("streaming").asBoolean());
    }

    /**
     * An Azure client pointed at a host that is not Azure's (a gateway): the first stream that does not ask for usage
     * goes out as the app built it and is charged an estimate; it taught the agent that this endpoint sends no usage
     * unasked, so the next one asks and hides the chunk asking added. The app sees no usage chunk either way.
     */
    @Test
    void aFirstStreamToAnEndpointNotKnownYetGoesOutAsTheAppBuiltIt() throws Exception {
        install(1_000_000);
        try (FakeOpenAiServer gateway = FakeOpenAiServer.start()) {
            OpenAIClient viaGateway = new OpenAIClientBuilder().endpoint(gateway.azureEndpoint())
                    .httpClient(new NettyAsyncHttpClientBuilder().build())
                    .addPolicy(new AddHeadersPolicy(new HttpHeaders().set("api-key", API_KEY)))
                    .retryPolicy(new RetryPolicy(new FixedDelay(0, Duration.ZERO))).buildClient();
            for (String text : List.of("probe", "asked")) {
                List<ChatCompletions> chunks = new ArrayList<>();
                viaGateway.getChatCompletionsStream(DEPLOYMENT, chat(text)).forEach(chunks::add);
                assertFalse(chunks.isEmpty());
                assertEquals(0, chunks.stream().filter(c -> c.getUsage() != null).count(), text);
            }
            assertEquals(2, gateway.requestCount());
            assertFalse(gateway.requests().get(0).body().contains("include_usage"), "sent as the app built it");
            assertTrue(gateway.requests().get(1).body().contains("\"include_usage\":true"),
                    gateway.requests().get(1).body());
            List<JsonNode> calls = events("llm_call");
            assertEquals(2, calls.size(), calls::toString);
            assertEquals("estimated", calls.get(0).get("usage_source").asText(), calls.get(0).toString());
            assertEquals("provider", calls.get(1).get("usage_source").asText(), calls.get(1).toString());
            assertEquals(gateway.requests().get(1).usage().outputTokens(), calls.get(1).get("output_tokens").asLong());
        }
    }

    @Test
    void anAsyncStreamIsChargedOnceAndHidesTheUsageChunk() throws Exception {
        install(1_000_000);
        List<ChatCompletions> chunks = async.getChatCompletionsStream(DEPLOYMENT, chat("async stream"))
                .collectList().block();
        assertFalse(chunks.isEmpty());
        for (ChatCompletions chunk : chunks) {
            assertNull(chunk.getUsage());
        }
        JsonNode call = callsMatchTheServer(1).get(0);
        assertEquals(server.requests().get(0).usage().outputTokens(), call.get("output_tokens").asLong());
        assertTrue(call.get("streaming").asBoolean());
    }

    @Test
    void aStreamWhoseAppAskedForUsageKeepsItsUsageChunk() throws Exception {
        install(1_000_000);
        List<ChatCompletions> chunks = new ArrayList<>();
        client.getChatCompletionsStream(DEPLOYMENT, chat("mine"), new ChatCompletionStreamOptions()
                .setIncludeUsage(true)).forEach(chunks::add);
        List<ChatCompletions> withUsage = chunks.stream().filter(c -> c.getUsage() != null).toList();
        assertEquals(1, withUsage.size());
        JsonNode call = callsMatchTheServer(1).get(0);
        assertEquals(withUsage.get(0).getUsage().getTotalTokens(), call.get("total_tokens").asLong());
    }

    @Test
    void embeddingsAreChargedTheirInputOnly() throws Exception {
        install(1_000_000);
        Embeddings embeddings = client.getEmbeddings(DEPLOYMENT, new EmbeddingsOptions(List.of("a ticket")));
        Embeddings more = async.getEmbeddings(DEPLOYMENT, new EmbeddingsOptions(List.of("another one"))).block();
        List<JsonNode> calls = callsMatchTheServer(2);
        assertEquals(embeddings.getUsage().getPromptTokens(), calls.get(0).get("input_tokens").asLong());
        assertEquals(more.getUsage().getPromptTokens(), calls.get(1).get("input_tokens").asLong());
        for (JsonNode call : calls) {
            assertEquals("embeddings", call.get("operation").asText());
            assertEquals(call.get("input_tokens").asLong(), call.get("total_tokens").asLong());
        }
    }

    @Test
    void anExhaustedBudgetRefusesEveryKindOfCallBeforeAnyRequestLeaves() throws Exception {
        install(1);
        client.getChatCompletions(DEPLOYMENT, chat("the only call"));
        assertEquals(1, server.requestCount());
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> client.getChatCompletions(DEPLOYMENT, chat("refused")));
        assertTrue(refusal.getMessage().endsWith("refused azure.ai.openai chat " + DEPLOYMENT), refusal.getMessage());
        assertThrows(BudgetExhaustedException.class, () -> client.getChatCompletionsStream(DEPLOYMENT, chat("no")));
        assertThrows(BudgetExhaustedException.class,
                () -> client.getEmbeddings(DEPLOYMENT, new EmbeddingsOptions(List.of("no"))));
        assertThrows(BudgetExhaustedException.class, () -> async.getChatCompletions(DEPLOYMENT, chat("no")),
                "the async client refuses when the app calls it, not later on subscription");
        assertThrows(BudgetExhaustedException.class, () -> async.getChatCompletionsStream(DEPLOYMENT, chat("no")));
        assertEquals(1, server.requestCount(), "no refused request reached the server");
        assertEquals(5, events("budget_exceeded").size());
    }

    @Test
    void aResponseWithoutUsageIsChargedAnEstimateMarkedSo() throws Exception {
        install(1_000_000);
        server.setUsageMode(UsageMode.ABSENT);
        client.getChatCompletions(DEPLOYMENT, chat("no usage here"));
        client.getChatCompletionsStream(DEPLOYMENT, chat("no usage in this stream")).forEach(c -> { });
        List<JsonNode> calls = events("llm_call");
        assertEquals(2, calls.size());
        assertEquals(2, server.requestCount());
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
            assertTrue(call.get("output_tokens").asLong() > 0, call.toString());
        }
    }

    @Test
    void aFailedCallIsLoggedAsAnErrorAndChargesNothing() throws Exception {
        install(1_000_000);
        server.setFailNext(429);
        assertThrows(HttpResponseException.class, () -> client.getChatCompletions(DEPLOYMENT, chat("limited")));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
        assertTrue(calls.get(0).get("input_tokens").isNull());
    }

    /**
     * A stream the app cancels after two chunks is charged once: the provider's counts when its usage chunk had
     * already arrived with the bytes read so far (a small answer may come in one piece), an estimate otherwise.
     */
    @Test
    void anAsyncStreamCancelledEarlyIsChargedOnce() throws Exception {
        install(1_000_000);
        List<ChatCompletions> two = async.getChatCompletionsStream(DEPLOYMENT, chat("cancelled")).take(2)
                .collectList().block();
        assertEquals(2, two.size());
        // the cancellation travels up the SDK's operators to the body, which may end on Netty's thread
        for (int i = 0; i < 200 && events("llm_call").isEmpty(); i++) {
            Thread.sleep(50);
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals(1, server.requestCount());
        JsonNode call = calls.get(0);
        if (call.get("usage_source").asText().equals("provider")) {
            assertEquals(server.totalInputTokens(), call.get("input_tokens").asLong(), call.toString());
            assertEquals(server.totalOutputTokens(), call.get("output_tokens").asLong(), call.toString());
        } else {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
        }
        assertEquals(call.get("total_tokens").asLong(), call.get("budget").get(0).get("used").asLong());
    }

    /**
     * On azure-core's JDK HttpClient transport each request is charged once. (In this JVM the JDK's own classes
     * cannot reach the agent, so the HTTP layer's staying out of them is proven on the built agent jar, in
     * {@code AzureOpenAiAgentIT}.)
     */
    @Test
    void onTheJdkHttpClientTransportEachRequestIsChargedOnce() throws Exception {
        install(1_000_000, new Governor.Settings(false, false, null,
                List.of(new HttpEndpoint(URI.create(server.azureEndpoint()), "azure.ai.openai")), null));
        OpenAIClientBuilder jdk = builder(new JdkHttpClientBuilder().build());
        OpenAIClient blocking = jdk.buildClient();
        OpenAIAsyncClient nonBlocking = jdk.buildAsyncClient();
        blocking.getChatCompletions(DEPLOYMENT, chat("blocking"));
        blocking.getChatCompletionsStream(DEPLOYMENT, chat("blocking stream")).forEach(c -> { });
        nonBlocking.getChatCompletions(DEPLOYMENT, chat("async")).block();
        nonBlocking.getChatCompletionsStream(DEPLOYMENT, chat("async stream")).blockLast();
        nonBlocking.getEmbeddings(DEPLOYMENT, new EmbeddingsOptions(List.of("async embeddings"))).block();
        List<JsonNode> calls = callsMatchTheServer(5);
        assertEquals(List.of(false, true, false, true, false),
                calls.stream().map(c -> c.get("streaming").asBoolean()).toList());
    }

    @Test
    void theFakeServersUrlAmongTheHttpEndpointsChangesNothing() throws Exception {
        install(1_000_000, new Governor.Settings(false, false, null,
                List.of(new HttpEndpoint(URI.create(server.azureEndpoint()), "azure.ai.openai")), null));
        client.getChatCompletions(DEPLOYMENT, chat("one"));
        async.getChatCompletionsStream(DEPLOYMENT, chat("two")).blockLast();
        callsMatchTheServer(2);
    }
}
