package dev.tokenguard.sample.stub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.output.Response;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FakeOllamaServerTest {

    private static final String SYSTEM = "You summarize support tickets in one sentence.";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private FakeOllamaServer server;

    @BeforeEach
    void start() {
        server = FakeOllamaServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                .header("content-type", "application/json").header("authorization", "Bearer proxy-secret-0123")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String chatBody(String prompt, String extra) {
        return "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"system\",\"content\":\"" + SYSTEM + "\"},"
                + "{\"role\":\"user\",\"content\":\"" + prompt + "\"}]" + extra + "}";
    }

    private static List<JsonNode> lines(String body) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : body.split("\n")) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void aChatWithoutStreamIsOneObjectWithTheCounts() throws Exception {
        String prompt = "My invoice shows a double charge for March.";
        HttpResponse<String> response = post("/api/chat", chatBody(prompt, ",\"stream\":false"));

        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = JSON.readTree(response.body());
        assertEquals("llama3.2", answer.get("model").asText());
        assertTrue(answer.get("done").asBoolean());
        assertEquals("stop", answer.get("done_reason").asText());
        assertEquals("assistant", answer.get("message").get("role").asText());
        assertTrue(answer.get("message").get("content").asText().startsWith(prompt + " so the customer"));
        // n = 1: (46 + 43) / 4 + 1 + 7 = 30 in; 20 + 37 = 57 out
        assertEquals(30, answer.get("prompt_eval_count").asLong());
        assertEquals(57, answer.get("eval_count").asLong());
        assertTrue(answer.get("total_duration").asLong() > answer.get("eval_duration").asLong());

        RecordedRequest recorded = server.lastRequest();
        assertEquals("/api/chat", recorded.path());
        assertFalse(recorded.streaming());
        assertTrue(recorded.usageReported());
        assertEquals(new StubUsage(30, 57, 0, 0), recorded.usage());
        assertEquals(87, server.totalTokens());
        assertFalse(recorded.toString().contains("proxy-secret"), recorded.toString());
    }

    @Test
    void aChatStreamsNdjsonByDefaultAndOnlyTheDoneLineCarriesCounts() throws Exception {
        HttpResponse<String> response = post("/api/chat", chatBody("The printer jams every morning.", ""));

        assertEquals(200, response.statusCode());
        assertEquals("application/x-ndjson", response.headers().firstValue("content-type").orElseThrow());
        List<JsonNode> lines = lines(response.body());
        assertEquals(5, lines.size(), response.body());
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = lines.get(i);
            boolean last = i == lines.size() - 1;
            assertEquals(last, line.get("done").asBoolean());
            assertEquals(last, line.has("eval_count"));
            text.append(line.get("message").get("content").asText());
        }
        RecordedRequest recorded = server.lastRequest();
        assertTrue(recorded.streaming());
        assertEquals(recorded.usage().inputTokens(), lines.get(4).get("prompt_eval_count").asLong());
        assertEquals(recorded.usage().outputTokens(), lines.get(4).get("eval_count").asLong());
        assertEquals(recorded.usage().outputTokens() - 1, text.toString().split(" ").length);
    }

    @Test
    void generateCountsSystemAndPromptAndACapEndsWithLength() throws Exception {
        String body = "{\"model\":\"llama3.2\",\"system\":\"" + SYSTEM + "\",\"prompt\":\"Refund please.\","
                + "\"stream\":false,\"options\":{\"num_predict\":10}}";
        JsonNode answer = JSON.readTree(post("/api/generate", body).body());

        // n = 1: (46 + 14) / 4 + 1 + 7 = 23 in; capped at 10 out
        assertEquals(23, answer.get("prompt_eval_count").asLong());
        assertEquals(10, answer.get("eval_count").asLong());
        assertEquals("length", answer.get("done_reason").asText());
        assertTrue(answer.get("response").asText().startsWith("Refund please."));
        assertTrue(answer.get("context").isArray());
        assertEquals(new StubUsage(23, 10, 0, 0), server.lastRequest().usage());

        List<JsonNode> streamed = lines(post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"Hi there\"}").body());
        assertEquals(5, streamed.size());
        assertTrue(streamed.get(0).has("response"));
        assertEquals(server.lastRequest().usage().outputTokens(), streamed.get(4).get("eval_count").asLong());
        assertEquals(2, server.requestCount());
    }

    @Test
    void embedReportsPromptEvalCountOfAllInputs() throws Exception {
        JsonNode one = JSON.readTree(post("/api/embed", "{\"model\":\"all-minilm\",\"input\":\"refund request\"}").body());
        assertEquals(1, one.get("embeddings").size());
        assertEquals(FakeOllamaServer.DEFAULT_DIMENSIONS, one.get("embeddings").get(0).size());
        // n = 1: 14 / 4 + 1 + 7 = 11
        assertEquals(11, one.get("prompt_eval_count").asLong());

        JsonNode two = JSON.readTree(post("/api/embed",
                "{\"model\":\"all-minilm\",\"input\":[\"login problem\",\"shipping label is wrong\"],\"dimensions\":8}").body());
        assertEquals(2, two.get("embeddings").size());
        assertEquals(8, two.get("embeddings").get(1).size());
        // n = 2: 36 / 4 + 1 + 3 = 13
        assertEquals(13, two.get("prompt_eval_count").asLong());
        assertEquals(24, server.totalInputTokens());
        assertEquals(0, server.totalOutputTokens());
    }

    @Test
    void toolsAreCalledUntilATrailingToolMessage() throws Exception {
        String tools = ",\"stream\":false,\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup_order\","
                + "\"description\":\"Finds an order\",\"parameters\":{\"type\":\"object\",\"properties\":"
                + "{\"orderId\":{\"type\":\"string\"}},\"required\":[\"orderId\"]}}}]";
        JsonNode call = JSON.readTree(post("/api/chat", chatBody("Where is order 42?", tools)).body());
        JsonNode toolCall = call.get("message").get("tool_calls").get(0).get("function");
        assertEquals("lookup_order", toolCall.get("name").asText());
        assertEquals("sample orderId", toolCall.get("arguments").get("orderId").asText());

        String answered = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"Where is order 42?\"},"
                + "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":" + toolCall + "}]},"
                + "{\"role\":\"tool\",\"content\":\"shipped\"}]" + tools + "}";
        JsonNode text = JSON.readTree(post("/api/chat", answered).body());
        assertFalse(text.get("message").has("tool_calls"));
        assertFalse(text.get("message").get("content").asText().isEmpty());
    }

    @Test
    void failuresModesTagsAndUnknownPaths() throws Exception {
        server.setFailNext(503);
        HttpResponse<String> failed = post("/api/chat", chatBody("again", ",\"stream\":false"));
        assertEquals(503, failed.statusCode());
        assertTrue(JSON.readTree(failed.body()).get("error").asText().contains("server busy"));
        assertEquals(400, post("/api/chat", "{\"messages\":[]}").statusCode());
        FakeServerChecks.assertOnlyFailuresRecorded(2, server.requests(), server.totalTokens());

        server.setUsageMode(UsageMode.ABSENT);
        JsonNode absent = JSON.readTree(post("/api/chat", chatBody("a", ",\"stream\":false")).body());
        assertTrue(absent.get("done").asBoolean());
        assertFalse(absent.has("prompt_eval_count") || absent.has("eval_count"));
        server.setUsageMode(UsageMode.RENAMED);
        JsonNode renamed = JSON.readTree(post("/api/embed", "{\"model\":\"all-minilm\",\"input\":\"b\"}").body());
        assertEquals(server.lastRequest().usage().inputTokens(), renamed.get("prompt_tokens").asLong());
        assertFalse(server.lastRequest().usageReported());

        HttpResponse<String> tags = HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/tags")).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        List<String> names = new ArrayList<>();
        JSON.readTree(tags.body()).get("models").forEach(m -> names.add(m.get("name").asText()));
        assertEquals(List.of("all-minilm:latest", "llama3.2:latest"), names);
        assertEquals(404, post("/api/pull", "{\"model\":\"llama3.2\"}").statusCode());
        assertEquals(4, server.requestCount(), "tags and unknown paths are not model requests");

        server.reset();
        assertEquals(0, server.requestCount());
        JsonNode normal = JSON.readTree(post("/api/chat", chatBody("c", ",\"stream\":false")).body());
        assertTrue(normal.has("eval_count"), "reset restores the normal usage");
    }

    // ---- the real LangChain4j Ollama client on the fake server ----

    @Test
    void langChain4jChatStreamingAndEmbeddingsReadTheAnswers() throws Exception {
        OllamaChatModel chat = OllamaChatModel.builder().baseUrl(server.baseUrl()).modelName("llama3.2")
                .maxRetries(0).build();
        ChatResponse response = chat.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(dev.langchain4j.data.message.UserMessage.from("The printer on floor 3 jams.")).build());
        RecordedRequest first = server.lastRequest();
        assertFalse(first.streaming(), "the blocking model asks for one object");
        assertTrue(response.aiMessage().text().startsWith("The printer on floor 3 jams."));
        assertEquals(first.usage().inputTokens(), response.tokenUsage().inputTokenCount().longValue());
        assertEquals(first.usage().outputTokens(), response.tokenUsage().outputTokenCount().longValue());

        OllamaStreamingChatModel streaming = OllamaStreamingChatModel.builder().baseUrl(server.baseUrl())
                .modelName("llama3.2").build();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        StringBuilder partial = new StringBuilder();
        streaming.chat("My badge stopped working.", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse complete) {
                done.complete(complete);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse streamed = done.get(30, TimeUnit.SECONDS);
        RecordedRequest second = server.lastRequest();
        assertTrue(second.streaming());
        assertEquals(partial.toString(), streamed.aiMessage().text());
        assertEquals(second.usage().totalTokens(), streamed.tokenUsage().totalTokenCount().longValue());

        OllamaEmbeddingModel embedder = OllamaEmbeddingModel.builder().baseUrl(server.baseUrl())
                .modelName("all-minilm").maxRetries(0).build();
        Response<List<Embedding>> all = embedder.embedAll(List.of(TextSegment.from("a"), TextSegment.from("b")));
        assertEquals(2, all.content().size());
        assertEquals(FakeOllamaServer.DEFAULT_DIMENSIONS, all.content().get(0).dimension());
        assertEquals("/api/embed", server.lastRequest().path());
        assertEquals(server.lastRequest().usage().inputTokens(), all.tokenUsage().inputTokenCount().longValue());
        assertEquals(3, server.requestCount());

        server.setFailNext(500);
        assertThrows(InternalServerException.class, () -> chat.chat("again"));
        assertEquals(4, server.requestCount(), "no retry with maxRetries(0)");
        assertNull(server.lastRequest().usage());
    }
}
