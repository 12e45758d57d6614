package dev.tokenguard.instrumentation.okhttp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.instrumentation.InstalledGovernor;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OkHttp plugin in this JVM: real OkHttp, the fake servers as configured endpoints, the real engine and log. */
class OkHttpInstrumentationTest {
    static final MediaType JSON = MediaType.get("application/json");
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;
    FakeOpenAiServer openAi;
    FakeAnthropicServer anthropic;
    OkHttpClient client;
    BudgetEngine engine;
    SessionLogWriter log;

    @BeforeEach
    void start() {
        openAi = FakeOpenAiServer.start();
        // the fake server reports a stream's usage only when asked: known so, the agent asks and hides its chunk
        UnaskedStreamUsage.shared().learn(UnaskedStreamUsage.endpoint(URI.create(openAi.baseUrl())), false, true);
        anthropic = FakeAnthropicServer.start();
        client = new OkHttpClient.Builder().retryOnConnectionFailure(false).build();
    }

    @AfterEach
    void stop() {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
        openAi.close();
        anthropic.close();
        engine.close();
        log.close();
    }

    void install(long maxTokens) {
        List<HttpEndpoint> endpoints = List.of(new HttpEndpoint(URI.create(openAi.baseUrl()), "openai"),
                new HttpEndpoint(URI.create(anthropic.baseUrl()), "anthropic"));
        InstalledGovernor governed = InstalledGovernor.threadBudget(dir, maxTokens, Telemetry.NONE,
                new Governor.Settings(false, false, null, endpoints, name -> true));
        log = governed.log();
        engine = governed.engine();
    }

    List<JsonNode> events(String event) throws IOException {
        return SessionLogEvents.of(dir, event);
    }

    Request chat(String json) {
        return new Request.Builder().url(openAi.baseUrl() + "/chat/completions")
                .header("Authorization", "Bearer sk-secret-do-not-log").post(RequestBody.create(json, JSON)).build();
    }

    static String chatBody(boolean stream, boolean askUsage) {
        return "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]"
                + (stream ? ",\"stream\":true" : "")
                + (askUsage ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    @Test
    void theFirstStreamToAnUnknownEndpointGoesOutAsBuiltAndIsEstimatedTheNextAsksAndIsExact() throws Exception {
        openAi.close();
        openAi = FakeOpenAiServer.start(); // an endpoint the agent has not seen a stream of yet
        install(1_000_000);
        String first = execute(chat(chatBody(true, false)));
        String second = execute(chat(chatBody(true, false)));
        List<RecordedRequest> sent = openAi.requests();
        assertEquals(2, sent.size());
        assertFalse(MAPPER.readTree(sent.get(0).body()).has("stream_options"), sent.get(0).body());
        assertFalse(sent.get(0).usageReported(), "not asked, the fake server reports no usage");
        assertTrue(MAPPER.readTree(sent.get(1).body()).path("stream_options").path("include_usage").asBoolean(),
                sent.get(1).body());
        assertTrue(sent.get(1).usageReported());
        for (String body : List.of(first, second)) {
            assertFalse(body.contains("\"usage\""), "no usage reaches the app either way: " + body);
            assertTrue(body.trim().endsWith("data: [DONE]"), body);
        }
        assertEquals(first.split("data: ").length, second.split("data: ").length, second);
        List<JsonNode> calls = events("llm_call");
        assertEquals(2, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertEquals("provider", calls.get(1).get("usage_source").asText());
        assertEquals(sent.get(1).usage().inputTokens(), calls.get(1).get("input_tokens").asLong());
        assertEquals(sent.get(1).usage().outputTokens(), calls.get(1).get("output_tokens").asLong());
    }

    String execute(Request request) throws IOException {
        try (Response response = client.newCall(request).execute()) {
            return response.body().string();
        }
    }

    void assertChargedAsServed(int calls, long input, long output) throws IOException {
        List<JsonNode> llmCalls = events("llm_call");
        assertEquals(calls, llmCalls.size());
        assertEquals(input, llmCalls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(output, llmCalls.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        for (JsonNode c : llmCalls) {
            assertEquals("provider", c.get("usage_source").asText(), c.toString());
        }
    }

    @Test
    void aChatIsChargedOnceWithTheServedUsageAndTheAppReadsTheServedBody() throws Exception {
        install(1_000_000);
        String body = execute(chat(chatBody(false, false)));
        JsonNode usage = MAPPER.readTree(body).get("usage");
        assertEquals(1, openAi.requestCount());
        assertEquals(openAi.totalInputTokens(), usage.get("prompt_tokens").asLong());
        assertChargedAsServed(1, openAi.totalInputTokens(), openAi.totalOutputTokens());
        JsonNode call = events("llm_call").get(0);
        assertEquals("openai", call.get("provider").asText());
        assertEquals("chat", call.get("operation").asText());
        assertEquals("gpt-4o", call.get("request_model").asText());
        assertFalse(call.get("streaming").asBoolean());
        assertFalse(SessionLogEvents.all(dir).toString().contains("sk-secret"), "the API key never reaches the log");
    }

    @Test
    void aStreamWithoutUsageIsAskedForItAndTheAppNeverSeesTheUsageChunk() throws Exception {
        install(1_000_000);
        String body = execute(chat(chatBody(true, false)));
        RecordedRequest sent = openAi.lastRequest();
        assertTrue(MAPPER.readTree(sent.body()).path("stream_options").path("include_usage").asBoolean(),
                sent.body());
        assertTrue(sent.usageReported(), "the server reported the usage the agent asked for");
        assertFalse(body.contains("\"usage\":{"), "the usage chunk is hidden from the app: " + body);
        assertTrue(body.trim().endsWith("data: [DONE]"), body);
        assertChargedAsServed(1, openAi.totalInputTokens(), openAi.totalOutputTokens());
        assertTrue(events("llm_call").get(0).get("streaming").asBoolean());
    }

    @Test
    void aStreamThatAsksForUsageIsLeftAsItIs() throws Exception {
        install(1_000_000);
        String body = execute(chat(chatBody(true, true)));
        assertEquals(chatBody(true, true), openAi.lastRequest().body());
        long usageChunks = body.lines().filter(l -> l.startsWith("data: ") && l.contains("\"usage\":{")).count();
        assertEquals(1, usageChunks, body);
        assertChargedAsServed(1, openAi.totalInputTokens(), openAi.totalOutputTokens());
    }

    @Test
    void embeddingsAreCharged() throws Exception {
        install(1_000_000);
        execute(new Request.Builder().url(openAi.baseUrl() + "/embeddings")
                .post(RequestBody.create("{\"model\":\"text-embedding-3-small\",\"input\":\"some words\"}", JSON))
                .build());
        assertChargedAsServed(1, openAi.totalInputTokens(), 0);
        assertEquals("embeddings", events("llm_call").get(0).get("operation").asText());
    }

    @Test
    void anEnqueuedCallIsChargedWhenTheCallbackHasReadTheBody() throws Exception {
        install(1_000_000);
        CompletableFuture<String> read = new CompletableFuture<>();
        client.newCall(chat(chatBody(true, false))).enqueue(new Callback() {
            @Override
            public void onFailure(Call call, IOException e) {
                read.completeExceptionally(e);
            }

            @Override
            public void onResponse(Call call, Response response) throws IOException {
                try (response) {
                    read.complete(response.body().string());
                }
            }
        });
        String body = read.get(30, TimeUnit.SECONDS);
        assertTrue(body.trim().endsWith("data: [DONE]"), body);
        assertFalse(body.contains("\"usage\":{"), body);
        assertChargedAsServed(1, openAi.totalInputTokens(), openAi.totalOutputTokens());
    }

    @Test
    void anthropicMessagesPlainAndStreamedAreCharged() throws Exception {
        install(1_000_000);
        for (boolean stream : new boolean[] {false, true}) {
            execute(new Request.Builder().url(anthropic.baseUrl() + "/v1/messages")
                    .header("x-api-key", "sk-ant-secret").header("anthropic-version", "2023-06-01")
                    .post(RequestBody.create("{\"model\":\"claude-haiku-4-5\",\"max_tokens\":100," + (stream
                            ? "\"stream\":true," : "") + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                            JSON)).build());
        }
        assertEquals(2, anthropic.requestCount());
        assertChargedAsServed(2, anthropic.totalInputTokens(), anthropic.totalOutputTokens());
        assertEquals(List.of("anthropic", "anthropic"), events("llm_call").stream()
                .map(c -> c.get("provider").asText()).toList());
    }

    @Test
    void anExhaustedBudgetRefusesExecuteAndEnqueueBeforeAnythingIsSent() throws Exception {
        install(1);
        execute(chat(chatBody(false, false)));
        int served = openAi.requestCount();
        assertEquals(1, served);
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> client.newCall(chat(chatBody(false, false))).execute());
        assertEquals(1, refusal.limitTokens());
        AtomicInteger callbacks = new AtomicInteger();
        assertThrows(BudgetExhaustedException.class, () -> client.newCall(chat(chatBody(true, false)))
                .enqueue(new Callback() {
                    @Override
                    public void onFailure(Call call, IOException e) {
                        callbacks.incrementAndGet();
                    }

                    @Override
                    public void onResponse(Call call, Response response) {
                        callbacks.incrementAndGet();
                    }
                }));
        assertEquals(served, openAi.requestCount());
        assertEquals(0, callbacks.get());
        assertEquals(2, events("budget_exceeded").size());
        assertEquals(1, events("llm_call").size());
    }

    @Test
    void anErrorStatusIsAFailedCallAndTheAppReadsTheErrorBody() throws Exception {
        install(1_000_000);
        openAi.setFailNext(500);
        try (Response response = client.newCall(chat(chatBody(false, false))).execute()) {
            assertEquals(500, response.code());
            assertTrue(response.body().string().contains("\"error\""));
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
    }

    @Test
    void aStreamClosedAfterItsFirstLineIsChargedOnce() throws Exception {
        install(1_000_000);
        try (Response response = client.newCall(chat(chatBody(true, true))).execute()) {
            assertTrue(response.body().source().readUtf8Line().startsWith("data: {"));
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertTrue(calls.get(0).get("total_tokens").asLong() > 0, calls.get(0).toString());
    }

    @Test
    void aCallbackThatThrowsWithoutReadingStillEndsTheCallOnce() throws Exception {
        install(1_000_000);
        CompletableFuture<Response> seen = new CompletableFuture<>();
        client.newCall(chat(chatBody(false, false))).enqueue(new Callback() {
            @Override
            public void onFailure(Call call, IOException e) {
                seen.completeExceptionally(e);
            }

            @Override
            public void onResponse(Call call, Response response) throws IOException {
                seen.complete(response);
                throw new IOException("the app's own failure");
            }
        });
        seen.get(30, TimeUnit.SECONDS);
        // never read nor closed by the app: the call is done once the dispatcher has seen the callback return (here: throw)
        for (int i = 0; i < 3000 && client.dispatcher().runningCallsCount() > 0; i++) {
            Thread.sleep(10);
        }
        assertEquals(0, client.dispatcher().runningCallsCount());
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
        assertEquals(1, openAi.requestCount());
    }

    @Test
    void otherRequestsPassUntouchedAndTheirBodiesAreWrittenOnlyOnce() throws Exception {
        install(1_000_000);
        AtomicInteger writes = new AtomicInteger();
        RequestBody counted = new RequestBody() {
            @Override
            public MediaType contentType() {
                return JSON;
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                writes.incrementAndGet();
                sink.writeString("{\"model\":\"gpt-4o\"}", StandardCharsets.UTF_8);
            }
        };
        try (Response response = client.newCall(new Request.Builder().url(openAi.baseUrl() + "/files")
                .post(counted).build()).execute()) {
            assertEquals(404, response.code());
        }
        assertEquals(1, writes.get(), "OkHttp wrote the body once, the agent never");
        assertEquals(0, events("llm_call").size());
    }
}
