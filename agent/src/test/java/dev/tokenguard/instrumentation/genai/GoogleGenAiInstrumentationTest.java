package dev.tokenguard.instrumentation.genai;

import dev.tokenguard.instrumentation.InstalledGovernor;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.errors.ClientException;
import com.google.genai.types.Content;
import com.google.genai.types.CountTokensResponse;
import com.google.genai.types.EmbedContentResponse;
import com.google.genai.types.GenerateContentConfig;
import com.google.genai.types.GenerateContentResponse;
import com.google.genai.types.HttpOptions;
import com.google.genai.types.HttpRetryOptions;
import com.google.genai.types.Part;
import com.google.genai.types.Tool;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.FakeGeminiServer;
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
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The google-genai plugin in this JVM: the real Google GenAI SDK (on its OkHttp client) against the fake Gemini
 * server, the real engine and log. Expected counts come from the server's ledger.
 */
class GoogleGenAiInstrumentationTest {
    static final String MODEL = "gemini-2.5-flash";
    static final String EMBEDDING_MODEL = "gemini-embedding-001";
    static final String API_KEY = "gemini-secret-do-not-log";
    static FakeGeminiServer server;

    @TempDir
    Path dir;
    Client client;
    BudgetEngine engine;
    SessionLogWriter log;

    @BeforeAll
    static void startServer() {
        server = FakeGeminiServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void start() {
        server.reset();
        client = client(false);
    }

    /** A client on the fake server, on the Gemini API or (API-key "express mode") on Vertex AI; no retries. */
    static Client client(boolean vertex) {
        return Client.builder().apiKey(API_KEY).vertexAI(vertex).httpOptions(HttpOptions.builder()
                .baseUrl(server.rootUrl()).retryOptions(HttpRetryOptions.builder().attempts(1).build()).build())
                .build();
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
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

    /** Settings naming the fake server among the HTTP endpoints, so the OkHttp layer would govern it if it could. */
    static Governor.Settings serverIsAnHttpEndpoint() {
        return new Governor.Settings(false, false, null,
                List.of(new HttpEndpoint(URI.create(server.rootUrl()), "gcp.gemini")), null);
    }

    static GenerateContentConfig config() {
        return GenerateContentConfig.builder()
                .systemInstruction(Content.fromParts(Part.fromText("You summarise support tickets."))).build();
    }

    List<JsonNode> events(String event) throws Exception {
        for (JsonNode node : SessionLogEvents.all(dir)) {
            assertFalse(node.toString().contains(API_KEY), "the API key never reaches the log");
        }
        return SessionLogEvents.of(dir, event);
    }

    /** Each llm_call against the server's request of the same position: one charge per request, its counts. */
    List<JsonNode> callsMatchTheServer(int expected, String provider) throws Exception {
        List<JsonNode> calls = events("llm_call");
        assertEquals(expected, calls.size(), calls::toString);
        List<RecordedRequest> served = server.requests();
        assertEquals(expected, served.size());
        for (int i = 0; i < expected; i++) {
            RecordedRequest request = served.get(i);
            JsonNode call = calls.get(i);
            assertEquals(200, request.status(), request.toString());
            assertEquals(request.usage().inputTokens(), call.get("input_tokens").asLong(), call.toString());
            assertEquals(request.usage().outputTokens(), call.get("output_tokens").asLong(), call.toString());
            assertEquals(request.usage().totalTokens(), call.get("total_tokens").asLong(), call.toString());
            assertEquals(provider, call.get("provider").asText());
            assertEquals("provider", call.get("usage_source").asText());
            assertEquals("ok", call.get("status").asText());
        }
        return calls;
    }

    @Test
    void generateContentIsChargedOnceWithTheServersCountsThoughtsAsReasoning() throws Exception {
        install(1_000_000);
        GenerateContentResponse response = client.models.generateContent(MODEL, "Printer on floor 3 is jammed.",
                config());
        JsonNode call = callsMatchTheServer(1, "gcp.gemini").get(0);
        RecordedRequest served = server.requests().get(0);
        // 1.x calls the API's v1beta, 2.x its v1
        assertTrue(served.path().matches("/v1(beta)?/models/" + MODEL + ":generateContent"), served.path());
        assertEquals(API_KEY, served.header("x-goog-api-key"), "the SDK sent its key");
        assertTrue(served.usage().reasoningTokens() > 0, "a thinking model's answer has thoughts");
        assertEquals(served.usage().reasoningTokens(), call.get("reasoning_tokens").asLong());
        assertEquals(response.usageMetadata().orElseThrow().totalTokenCount().orElseThrow(),
                call.get("total_tokens").asInt());
        assertEquals("generate_content", call.get("operation").asText());
        assertEquals(MODEL, call.get("request_model").asText());
        assertEquals(MODEL, call.get("response_model").asText());
        assertFalse(call.get("streaming").asBoolean());
        assertFalse(response.text().isEmpty());
    }

    @Test
    void cachedContentTokensAreCacheReadsInsideTheInput() throws Exception {
        install(1_000_000);
        server.setCachedContentTokens(40);
        client.models.generateContent(MODEL, "cached", config());
        JsonNode call = callsMatchTheServer(1, "gcp.gemini").get(0);
        assertEquals(40, call.get("cache_read_tokens").asLong());
        assertTrue(call.get("input_tokens").asLong() > 40, "the input includes the cached tokens");
    }

    @Test
    void anAsyncCallIsChargedOnce() throws Exception {
        install(1_000_000);
        GenerateContentResponse response = client.async.models.generateContent(MODEL, "async", config()).get();
        JsonNode call = callsMatchTheServer(1, "gcp.gemini").get(0);
        assertEquals(response.usageMetadata().orElseThrow().totalTokenCount().orElseThrow(),
                call.get("total_tokens").asInt());
    }

    @Test
    void aStreamIsChargedOnceWithItsLastChunksTotals() throws Exception {
        install(1_000_000);
        List<GenerateContentResponse> chunks = new ArrayList<>();
        try (ResponseStream<GenerateContentResponse> stream = client.models.generateContentStream(MODEL,
                "stream it", config())) {
            stream.forEach(chunks::add);
        }
        assertTrue(chunks.size() > 1, "the answer came in several chunks");
        long summed = 0;
        for (GenerateContentResponse chunk : chunks) {
            summed += chunk.usageMetadata().orElseThrow().totalTokenCount().orElseThrow();
        }
        JsonNode call = callsMatchTheServer(1, "gcp.gemini").get(0);
        assertTrue(call.get("streaming").asBoolean());
        assertEquals(chunks.get(chunks.size() - 1).usageMetadata().orElseThrow().totalTokenCount().orElseThrow(),
                call.get("total_tokens").asInt(), "the last chunk holds the totals");
        assertTrue(summed > call.get("total_tokens").asLong(), "a sum of the chunks would have been wrong");
        assertEquals("alt=sse", server.requests().get(0).query());
    }

    /**
     * A stream the app closes after its first chunk is charged once: the provider's counts when the last chunk had
     * already arrived with the bytes read so far (a small answer may come in one piece), an estimate otherwise.
     */
    @Test
    void aStreamClosedAfterItsFirstChunkIsChargedOnce() throws Exception {
        install(1_000_000);
        try (ResponseStream<GenerateContentResponse> stream = client.models.generateContentStream(MODEL,
                "closed early", config())) {
            assertTrue(stream.iterator().hasNext());
            assertNotNull(stream.iterator().next());
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size(), calls::toString);
        assertEquals(1, server.requestCount());
        JsonNode call = calls.get(0);
        if (call.get("usage_source").asText().equals("provider")) {
            assertEquals(server.totalTokens(), call.get("total_tokens").asLong(), call.toString());
        } else {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
        }
        assertEquals(call.get("total_tokens").asLong(), call.get("budget").get(0).get("used").asLong());
    }

    @Test
    void anAsyncStreamIsChargedOnce() throws Exception {
        install(1_000_000);
        int count = 0;
        try (ResponseStream<GenerateContentResponse> stream = client.async.models.generateContentStream(MODEL,
                "async stream", config()).get()) {
            for (GenerateContentResponse ignored : stream) {
                count++;
            }
        }
        assertTrue(count > 1);
        JsonNode call = callsMatchTheServer(1, "gcp.gemini").get(0);
        assertTrue(call.get("streaming").asBoolean());
    }

    @Test
    void embeddingsAreChargedTheirInputOnly() throws Exception {
        install(1_000_000);
        EmbedContentResponse one = client.models.embedContent(EMBEDDING_MODEL, "a ticket", null);
        EmbedContentResponse two = client.async.models.embedContent(EMBEDDING_MODEL,
                List.of("another ticket", "and a third"), null).get();
        assertEquals(1, one.embeddings().orElseThrow().size());
        assertEquals(2, two.embeddings().orElseThrow().size());
        List<JsonNode> calls = callsMatchTheServer(2, "gcp.gemini");
        for (JsonNode call : calls) {
            assertEquals("embeddings", call.get("operation").asText());
            assertEquals(EMBEDDING_MODEL, call.get("request_model").asText());
            assertEquals(0, call.get("output_tokens").asLong(), call.toString());
        }
        assertTrue(server.requests().get(0).path().endsWith(":batchEmbedContents"));
    }

    /** The tool the model is told to call: no parameters, so no parameter names need the {@code -parameters} flag. */
    public static String openTicketCount() {
        return "7 open tickets";
    }

    @Test
    void automaticFunctionCallingChargesEachRoundTrip() throws Exception {
        install(1_000_000);
        GenerateContentConfig config = config().toBuilder().tools(Tool.builder()
                .functions(GoogleGenAiInstrumentationTest.class.getMethod("openTicketCount")).build()).build();
        GenerateContentResponse response = client.models.generateContent(MODEL, "How many tickets are open?",
                config);
        assertFalse(response.text().isEmpty());
        List<JsonNode> calls = callsMatchTheServer(2, "gcp.gemini");
        assertTrue(server.requests().get(1).body().contains("functionResponse"), "the second round trip answers");
        assertEquals(calls.get(0).get("total_tokens").asLong() + calls.get(1).get("total_tokens").asLong(),
                calls.get(1).get("budget").get(0).get("used").asLong());
        client.async.models.generateContent(MODEL, "And asynchronously?", config).get();
        // the async loop sends its second request from the SDK's callback thread: a session (thread scope) of its own
        List<JsonNode> all = events("llm_call");
        assertEquals(4, all.size(), all::toString);
        assertEquals(4, server.requestCount());
        assertEquals(server.totalTokens(), all.stream().mapToLong(c -> c.get("total_tokens").asLong()).sum());
    }

    @Test
    void countTokensIsNeverChargedNorRefused() throws Exception {
        install(1);
        CountTokensResponse counted = client.models.countTokens(MODEL, "count me", null);
        client.models.generateContent(MODEL, "spend the budget", config());
        CountTokensResponse again = client.models.countTokens(MODEL, "still counted", null);
        client.async.models.countTokens(MODEL, "and async", null).get();
        assertTrue(counted.totalTokens().orElseThrow() > 0);
        assertNotNull(again.totalTokens().orElseThrow());
        assertEquals(3, server.countTokensRequests().size());
        callsMatchTheServer(1, "gcp.gemini");
        assertTrue(events("budget_exceeded").isEmpty());
    }

    @Test
    void anExhaustedBudgetRefusesEveryKindOfCallBeforeAnyRequestLeaves() throws Exception {
        install(1);
        client.models.generateContent(MODEL, "the only call", config());
        assertEquals(1, server.requestCount());
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> client.models.generateContent(MODEL, "refused", config()));
        assertTrue(refusal.getMessage().endsWith("refused gcp.gemini generate_content " + MODEL),
                refusal.getMessage());
        assertThrows(BudgetExhaustedException.class, () -> client.models.generateContentStream(MODEL, "no", config()));
        assertThrows(BudgetExhaustedException.class,
                () -> client.models.embedContent(EMBEDDING_MODEL, "no", null));
        assertThrows(BudgetExhaustedException.class, () -> client.async.models.generateContent(MODEL, "no", config()),
                "the async client refuses when the app calls it, not in the future");
        assertEquals(1, server.requestCount(), "no refused request reached the server");
        assertEquals(4, events("budget_exceeded").size());
    }

    @Test
    void aResponseWithoutUsageIsChargedAnEstimateMarkedSo() throws Exception {
        install(1_000_000);
        server.setUsageMode(UsageMode.ABSENT);
        client.models.generateContent(MODEL, "no usage here", config());
        try (ResponseStream<GenerateContentResponse> stream = client.models.generateContentStream(MODEL,
                "no usage in this stream", config())) {
            stream.forEach(chunk -> { });
        }
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
        server.setFailNext(400);
        assertThrows(ClientException.class, () -> client.models.generateContent(MODEL, "bad", config()));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
        assertTrue(calls.get(0).get("input_tokens").isNull());
        assertEquals(0, calls.get(0).get("budget").get(0).get("used").asLong());
    }

    @Test
    void aClientOnVertexAiIsChargedAsVertexAi() throws Exception {
        install(1_000_000);
        try (Client vertex = client(true)) {
            vertex.models.generateContent(MODEL, "on vertex", config());
            try (ResponseStream<GenerateContentResponse> stream = vertex.models.generateContentStream(MODEL,
                    "a vertex stream", config())) {
                stream.forEach(chunk -> { });
            }
        }
        List<JsonNode> calls = callsMatchTheServer(2, "gcp.vertex_ai");
        assertEquals("/v1beta1/publishers/google/models/" + MODEL + ":generateContent", server.requests().get(0).path());
        assertEquals(MODEL, calls.get(1).get("request_model").asText());
        assertTrue(calls.get(1).get("streaming").asBoolean());
    }

    /** With the fake server among the HTTP endpoints, the OkHttp layer would charge the SDK's requests again. */
    @Test
    void theFakeServersUrlAmongTheHttpEndpointsChangesNothing() throws Exception {
        install(1_000_000, serverIsAnHttpEndpoint());
        client.models.generateContent(MODEL, "one", config());
        client.async.models.generateContent(MODEL, "two", config()).get();
        try (ResponseStream<GenerateContentResponse> stream = client.async.models.generateContentStream(MODEL,
                "three", config()).get()) {
            stream.forEach(chunk -> { });
        }
        client.async.models.embedContent(EMBEDDING_MODEL, "four", null).get();
        callsMatchTheServer(4, "gcp.gemini");
    }
}
