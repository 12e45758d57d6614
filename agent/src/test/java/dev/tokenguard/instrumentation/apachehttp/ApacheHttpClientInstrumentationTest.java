package dev.tokenguard.instrumentation.apachehttp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.instrumentation.InstalledGovernor;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The apache-httpclient5 plugin in this JVM: real HttpClient 5 (classic), its advice woven in, the fake servers as
 * configured endpoints, the real engine and log.
 */
class ApacheHttpClientInstrumentationTest {
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;
    FakeOpenAiServer openAi;
    FakeAnthropicServer anthropic;
    CloseableHttpClient client;
    BudgetEngine engine;
    SessionLogWriter log;

    @BeforeEach
    void start() {
        openAi = FakeOpenAiServer.start();
        // the fake server reports a stream's usage only when asked: known so, the agent asks and hides its chunk
        UnaskedStreamUsage.shared().learn(UnaskedStreamUsage.endpoint(URI.create(openAi.baseUrl())), false, true);
        anthropic = FakeAnthropicServer.start();
        client = HttpClients.createDefault();
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
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

    HttpPost chat(String json) {
        HttpPost post = new HttpPost(openAi.baseUrl() + "/chat/completions");
        post.setHeader("Authorization", "Bearer sk-secret-do-not-log");
        post.setEntity(new StringEntity(json, ContentType.APPLICATION_JSON));
        return post;
    }

    static String chatBody(boolean stream, boolean askUsage) {
        return "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]"
                + (stream ? ",\"stream\":true" : "")
                + (askUsage ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    String execute(HttpPost request) throws Exception {
        try (CloseableHttpResponse response = client.execute(request)) {
            return EntityUtils.toString(response.getEntity());
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
        assertEquals(chatBody(false, false), openAi.lastRequest().body(), "the body is sent as the app built it");
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
        HttpPost request = chat(chatBody(true, false));
        HttpEntity appEntity = request.getEntity();
        String body = execute(request);
        RecordedRequest sent = openAi.lastRequest();
        assertTrue(MAPPER.readTree(sent.body()).path("stream_options").path("include_usage").asBoolean(),
                sent.body());
        assertTrue(sent.usageReported(), "the server reported the usage the agent asked for");
        assertFalse(body.contains("\"usage\""), "the usage chunk is hidden from the app: " + body);
        assertTrue(body.trim().endsWith("data: [DONE]"), body);
        assertSame(appEntity, request.getEntity(), "the app's request holds its own entity again");
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
    void theResponseHandlerOverloadsAndTheMinimalClientAreChargedOnceEach() throws Exception {
        install(1_000_000);
        String handled = client.execute(chat(chatBody(true, false)), response -> EntityUtils.toString(response.getEntity()));
        assertTrue(handled.trim().endsWith("data: [DONE]"), handled);
        assertFalse(handled.contains("\"usage\""), handled);
        try (CloseableHttpClient minimal = HttpClients.createMinimal()) {
            String body = minimal.execute(chat(chatBody(false, false)), response -> EntityUtils.toString(response.getEntity()));
            assertTrue(body.contains("\"usage\""), body);
        }
        assertEquals(2, openAi.requestCount());
        assertChargedAsServed(2, openAi.totalInputTokens(), openAi.totalOutputTokens());
    }

    @Test
    void embeddingsAndAnthropicMessagesPlainAndStreamedAreCharged() throws Exception {
        install(1_000_000);
        HttpPost embeddings = new HttpPost(openAi.baseUrl() + "/embeddings");
        embeddings.setEntity(new StringEntity("{\"model\":\"text-embedding-3-small\",\"input\":\"some words\"}",
                ContentType.APPLICATION_JSON));
        execute(embeddings);
        for (boolean stream : new boolean[] {false, true}) {
            HttpPost post = new HttpPost(anthropic.baseUrl() + "/v1/messages");
            post.setHeader("x-api-key", "sk-ant-secret");
            post.setHeader("anthropic-version", "2023-06-01");
            post.setEntity(new StringEntity("{\"model\":\"claude-haiku-4-5\",\"max_tokens\":100," + (stream
                    ? "\"stream\":true," : "") + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                    ContentType.APPLICATION_JSON));
            execute(post);
        }
        assertEquals(1, openAi.requestCount());
        assertEquals(2, anthropic.requestCount());
        assertChargedAsServed(3, openAi.totalInputTokens() + anthropic.totalInputTokens(),
                anthropic.totalOutputTokens());
        assertEquals(List.of("openai", "anthropic", "anthropic"), events("llm_call").stream()
                .map(c -> c.get("provider").asText()).toList());
        assertEquals("embeddings", events("llm_call").get(0).get("operation").asText());
    }

    @Test
    void anExhaustedBudgetRefusesEveryExecuteBeforeAnythingIsSent() throws Exception {
        install(1);
        execute(chat(chatBody(false, false)));
        assertEquals(1, openAi.requestCount());
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> client.execute(chat(chatBody(false, false))));
        assertEquals(1, refusal.limitTokens());
        AtomicInteger handled = new AtomicInteger();
        assertThrows(BudgetExhaustedException.class, () -> client.execute(chat(chatBody(true, false)), response -> {
            handled.incrementAndGet();
            return null;
        }));
        assertEquals(1, openAi.requestCount());
        assertEquals(0, handled.get());
        assertEquals(2, events("budget_exceeded").size());
        assertEquals(1, events("llm_call").size());
    }

    @Test
    void anErrorStatusIsAFailedCallAndTheAppReadsTheErrorBody() throws Exception {
        install(1_000_000);
        openAi.setFailNext(500);
        try (CloseableHttpResponse response = client.execute(chat(chatBody(false, false)))) {
            assertEquals(500, response.getCode());
            assertTrue(EntityUtils.toString(response.getEntity()).contains("\"error\""));
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
    }

    @Test
    void aStreamClosedAfterItsFirstLineIsChargedOnce() throws Exception {
        install(1_000_000);
        try (CloseableHttpResponse response = client.execute(chat(chatBody(true, true)))) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(response.getEntity().getContent(),
                    StandardCharsets.UTF_8));
            assertTrue(reader.readLine().startsWith("data: {"));
        }
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertTrue(calls.get(0).get("total_tokens").asLong() > 0, calls.get(0).toString());
    }

    @Test
    void anEntityThatCanBeReadOnlyOnceIsSentWithTheSameBytes() throws Exception {
        install(1_000_000);
        AtomicInteger consumed = new AtomicInteger();
        byte[] json = chatBody(false, false).getBytes(StandardCharsets.UTF_8);
        InputStream once = new ByteArrayInputStream(json);
        HttpPost post = new HttpPost(openAi.baseUrl() + "/chat/completions");
        post.setEntity(new InputStreamEntity(new InputStream() {
            @Override
            public int read() throws IOException {
                int b = once.read();
                consumed.addAndGet(b < 0 ? 0 : 1);
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = once.read(b, off, len);
                consumed.addAndGet(Math.max(n, 0));
                return n;
            }
        }, json.length, ContentType.APPLICATION_JSON));
        execute(post);
        assertEquals(json.length, consumed.get(), "the app's stream is read once, by the agent");
        assertEquals(chatBody(false, false), openAi.lastRequest().body());
        assertChargedAsServed(1, openAi.totalInputTokens(), openAi.totalOutputTokens());
    }

    @Test
    void aRequestInsideAGovernedCallOrCarryingAnSdksMarksIsLeftToThatLayer() throws Exception {
        install(1_000_000);
        GovernedThread.enter();
        try {
            execute(chat(chatBody(false, false)));
        } finally {
            GovernedThread.exit();
        }
        HttpPost marked = chat(chatBody(false, false));
        marked.setHeader("X-Stainless-Lang", "java");
        execute(marked);
        assertEquals(2, openAi.requestCount());
        assertEquals(0, events("llm_call").size(), "an upper layer charges these");
        execute(chat(chatBody(false, false)));
        assertChargedAsServed(1, openAi.lastRequest().usage().inputTokens(), openAi.lastRequest().usage().outputTokens());
    }

    @Test
    void otherRequestsPassUntouchedAndTheirBodiesAreWrittenOnlyOnce() throws Exception {
        install(1_000_000);
        AtomicInteger reads = new AtomicInteger();
        InputStream counted = new ByteArrayInputStream("{\"model\":\"gpt-4o\"}".getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                reads.incrementAndGet();
                return super.read(b, off, len);
            }
        };
        HttpPost post = new HttpPost(openAi.baseUrl() + "/files");
        InputStreamEntity entity = new InputStreamEntity(counted, -1, ContentType.APPLICATION_JSON);
        post.setEntity(entity);
        try (CloseableHttpResponse response = client.execute(post)) {
            assertEquals(404, response.getCode());
            EntityUtils.consume(response.getEntity());
        }
        assertSame(entity, post.getEntity());
        assertTrue(reads.get() > 0, "the client read the app's stream");
        assertEquals(0, events("llm_call").size());
    }
}
