package dev.tokenguard.sample.stub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.googleai.GoogleAiEmbeddingModel;
import dev.langchain4j.model.googleai.GoogleAiGeminiChatModel;
import dev.langchain4j.model.googleai.GoogleAiGeminiStreamingChatModel;
import dev.langchain4j.model.googleai.GoogleAiGeminiTokenUsage;
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

class FakeGeminiServerTest {

    private static final String API_KEY = "AIzaStubSecretKey0123456789";
    private static final String MODEL = "gemini-2.5-flash";
    private static final String SYSTEM = "You summarize support tickets in one sentence.";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private FakeGeminiServer server;

    @BeforeEach
    void start() {
        server = FakeGeminiServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A GenerateContentRequest with a system instruction and one user turn. */
    private static String generateBody(String prompt, String extra) {
        return "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"" + prompt + "\"}]}],"
                + "\"systemInstruction\":{\"parts\":[{\"text\":\"" + SYSTEM + "\"}]}" + extra + "}";
    }

    private HttpResponse<String> post(String pathAndQuery, String body, boolean keyHeader) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.baseUrl() + pathAndQuery))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (keyHeader) {
            request.header("x-goog-api-key", API_KEY);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** promptTokenCount of request n, worked out by hand from the documented rule. */
    private static long prompt(int n, String prompt) {
        return (SYSTEM.length() + prompt.length()) / 4 + 1 + (n * 7L % 11);
    }

    @Test
    void generateContentReportsTheLedgersUsageUnderTheApisNames() throws Exception {
        String prompt = "My invoice shows a double charge for March.";
        HttpResponse<String> response = post("/models/" + MODEL + ":generateContent", generateBody(prompt, ""), true);

        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = JSON.readTree(response.body());
        assertEquals(1, answer.get("candidates").size());
        JsonNode candidate = answer.get("candidates").get(0);
        assertEquals("STOP", candidate.get("finishReason").asText());
        assertEquals("model", candidate.get("content").get("role").asText());
        String text = candidate.get("content").get("parts").get(0).get("text").asText();
        assertTrue(text.startsWith("My invoice shows a double charge for March. so the customer"), text);
        assertEquals(MODEL, answer.get("modelVersion").asText());
        assertTrue(answer.get("responseId").asText().contains("00000001"));

        // n = 1: prompt = (46 + 43) / 4 + 1 + 7 = 30; candidates = 20 + 37 = 57; thoughts = 57 / 4 = 14
        assertEquals(30, prompt(1, prompt));
        JsonNode usage = answer.get("usageMetadata");
        assertEquals(30, usage.get("promptTokenCount").asLong());
        assertEquals(57, usage.get("candidatesTokenCount").asLong());
        assertEquals(14, usage.get("thoughtsTokenCount").asLong());
        assertEquals(101, usage.get("totalTokenCount").asLong());
        assertFalse(usage.has("cachedContentTokenCount"), "a zero count is left out: " + usage);
        assertEquals(30, usage.get("promptTokensDetails").get(0).get("tokenCount").asLong());

        assertEquals(1, server.requestCount());
        RecordedRequest recorded = server.lastRequest();
        assertEquals("/v1beta/models/" + MODEL + ":generateContent", recorded.path());
        assertFalse(recorded.streaming());
        assertTrue(recorded.usageReported());
        assertEquals(new StubUsage(30, 71, 0, 14), recorded.usage());
        assertEquals(30, server.totalInputTokens());
        assertEquals(71, server.totalOutputTokens());
        assertEquals(API_KEY, recorded.header("x-goog-api-key"));
        assertFalse(recorded.toString().contains(API_KEY), recorded.toString());
    }

    /** Vertex AI's paths, with and without project and location, answer as the Gemini API's; others are 404s. */
    @Test
    void vertexAiPathsAreServedLikeTheGeminiApis() throws Exception {
        String root = "http://127.0.0.1:" + server.port();
        List<String> paths = List.of("/v1beta1/publishers/google/models/" + MODEL + ":generateContent",
                "/v1/projects/p-1/locations/us-central1/publishers/google/models/" + MODEL + ":generateContent");
        for (String path : paths) {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(root + path))
                    .header("x-goog-api-key", API_KEY)
                    .POST(HttpRequest.BodyPublishers.ofString(generateBody("Door 4 is stuck.", ""))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            assertEquals(MODEL, JSON.readTree(response.body()).get("modelVersion").asText());
        }
        HttpResponse<String> unknown = HTTP.send(HttpRequest.newBuilder(URI.create(root
                        + "/v1beta1/publishers/other/models/" + MODEL + ":generateContent"))
                .header("x-goog-api-key", API_KEY)
                .POST(HttpRequest.BodyPublishers.ofString(generateBody("no", ""))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, unknown.statusCode());
        assertEquals(2, server.requestCount());
        assertEquals(paths, server.requests().stream().map(RecordedRequest::path).toList());
    }

    @Test
    void anEventStreamCarriesRunningCountsOnEveryChunkAndTheTotalsOnTheLast() throws Exception {
        HttpResponse<String> response = post("/models/" + MODEL + ":streamGenerateContent?alt=sse",
                generateBody("The printer jams every morning.", ""), true);

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> chunks = new ArrayList<>();
        for (String line : response.body().split("\r\n")) {
            if (line.startsWith("data: ")) {
                chunks.add(JSON.readTree(line.substring("data: ".length())));
            }
        }
        assertEquals(4, chunks.size(), response.body());
        RecordedRequest recorded = server.lastRequest();
        assertTrue(recorded.streaming());
        long candidates = recorded.usage().outputTokens() - recorded.usage().reasoningTokens();
        long previous = 0;
        long sum = 0;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < chunks.size(); i++) {
            JsonNode chunk = chunks.get(i);
            JsonNode usage = chunk.get("usageMetadata");
            assertEquals(recorded.usage().inputTokens(), usage.get("promptTokenCount").asLong());
            long soFar = usage.get("candidatesTokenCount").asLong();
            assertTrue(soFar > previous, "the count grows: " + chunks);
            previous = soFar;
            sum += soFar;
            assertEquals(i == chunks.size() - 1, chunk.get("candidates").get(0).has("finishReason"));
            text.append(chunk.get("candidates").get(0).get("content").get("parts").get(0).get("text").asText());
        }
        JsonNode last = chunks.get(chunks.size() - 1).get("usageMetadata");
        assertEquals(candidates, last.get("candidatesTokenCount").asLong());
        assertEquals(recorded.usage().reasoningTokens(), last.get("thoughtsTokenCount").asLong());
        assertEquals(recorded.usage().totalTokens(), last.get("totalTokenCount").asLong());
        assertNotEquals(candidates, sum, "adding the chunks up is wrong");
        assertEquals(candidates - 1, text.toString().split(" ").length, "one word per token, the stop last");
    }

    @Test
    void withoutAltSseTheStreamIsOneJsonArrayOfTheSameChunks() throws Exception {
        HttpResponse<String> response = post("/models/" + MODEL + ":streamGenerateContent",
                generateBody("The badge reader beeps twice.", ""), true);

        assertEquals(200, response.statusCode());
        JsonNode chunks = JSON.readTree(response.body());
        assertTrue(chunks.isArray());
        assertEquals(4, chunks.size());
        JsonNode last = chunks.get(3);
        assertEquals("STOP", last.get("candidates").get(0).get("finishReason").asText());
        assertEquals(server.lastRequest().usage().totalTokens(), last.get("usageMetadata").get("totalTokenCount").asLong());
        assertEquals("", server.lastRequest().query());
    }

    @Test
    void theKeyMayComeAsAQueryParameterAndIsNeverPrinted() throws Exception {
        HttpResponse<String> response = post("/models/" + MODEL + ":generateContent?key=" + API_KEY,
                generateBody("Password reset mail never arrives.", ""), false);

        assertEquals(200, response.statusCode(), response.body());
        RecordedRequest recorded = server.lastRequest();
        assertEquals("key=" + API_KEY, recorded.query());
        assertTrue(recorded.toString().contains("key=***"), recorded.toString());
        assertFalse(recorded.toString().contains(API_KEY), recorded.toString());
        assertFalse(server.toString().contains(API_KEY));
    }

    @Test
    void aCallerWithoutKeyIsRefusedAndChargedNothing() throws Exception {
        HttpResponse<String> response = post("/models/" + MODEL + ":generateContent", generateBody("hello", ""), false);

        assertEquals(403, response.statusCode());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals(403, error.get("code").asInt());
        assertEquals("PERMISSION_DENIED", error.get("status").asText());
        FakeServerChecks.assertOnlyFailuresRecorded(1, server.requests(), server.totalTokens());
    }

    @Test
    void embedAndBatchEmbedReportThePromptTokensOfTheirTexts() throws Exception {
        String single = "{\"model\":\"models/text-embedding-004\",\"content\":{\"parts\":[{\"text\":\"refund request\"}]},"
                + "\"outputDimensionality\":8}";
        HttpResponse<String> one = post("/models/text-embedding-004:embedContent", single, true);
        assertEquals(200, one.statusCode(), one.body());
        JsonNode embedded = JSON.readTree(one.body());
        assertEquals(8, embedded.get("embedding").get("values").size());
        // n = 1: 14 chars / 4 + 1 + 7 = 11
        assertEquals(11, embedded.get("usageMetadata").get("promptTokenCount").asLong());
        assertEquals(new StubUsage(11, 0, 0, 0), server.lastRequest().usage());

        String batch = "{\"requests\":[{\"model\":\"models/text-embedding-004\",\"content\":{\"parts\":[{\"text\":"
                + "\"login problem\"}]}},{\"model\":\"models/text-embedding-004\",\"content\":{\"parts\":[{\"text\":"
                + "\"shipping label is wrong\"}]}}]}";
        HttpResponse<String> two = post("/models/text-embedding-004:batchEmbedContents", batch, true);
        assertEquals(200, two.statusCode(), two.body());
        JsonNode embeddings = JSON.readTree(two.body());
        assertEquals(2, embeddings.get("embeddings").size());
        assertEquals(FakeGeminiServer.DEFAULT_DIMENSIONS, embeddings.get("embeddings").get(1).get("values").size());
        // n = 2: (13 + 23) / 4 + 1 + 14 % 11 = 9 + 1 + 3 = 13
        assertEquals(13, embeddings.get("usageMetadata").get("promptTokenCount").asLong());
        assertEquals(24, server.totalInputTokens());
        assertEquals(0, server.totalOutputTokens());
        assertEquals(2, server.requestCount());
    }

    @Test
    void countTokensIsRecordedApartAndNeverCharged() throws Exception {
        HttpResponse<String> response = post("/models/" + MODEL + ":countTokens",
                "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"How many tokens is this?\"}]}]}", true);

        assertEquals(200, response.statusCode());
        // 24 chars / 4 + 1 = 7
        assertEquals(7, JSON.readTree(response.body()).get("totalTokens").asLong());
        assertEquals(0, server.requestCount());
        assertEquals(0, server.totalTokens());
        assertEquals(1, server.countTokensRequests().size());
        assertEquals(7, server.countTokensRequests().get(0).usage().inputTokens());
    }

    @Test
    void injectedFailuresUseGooglesErrorBodyAndCountAsRequests() throws Exception {
        server.setFailNext(429, 2);
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> failed = post("/models/" + MODEL + ":generateContent", generateBody("again", ""), true);
            assertEquals(429, failed.statusCode());
            assertEquals("RESOURCE_EXHAUSTED", JSON.readTree(failed.body()).get("error").get("status").asText());
        }
        assertEquals(200, post("/models/" + MODEL + ":generateContent", generateBody("again", ""), true).statusCode());
        assertEquals(3, server.requestCount());
        assertEquals(List.of(429, 429, 200), server.requests().stream().map(RecordedRequest::status).toList());
        assertEquals(server.requests().get(2).usage().totalTokens(), server.totalTokens());
    }

    @Test
    void usageModesHideOrRenameTheUsageButTheLedgerKeepsIt() throws Exception {
        server.setUsageMode(UsageMode.ABSENT);
        JsonNode absent = JSON.readTree(post("/models/" + MODEL + ":generateContent", generateBody("a", ""), true).body());
        assertFalse(absent.has("usageMetadata"));
        server.setUsageMode(UsageMode.NULL);
        JsonNode nulled = JSON.readTree(post("/models/" + MODEL + ":generateContent", generateBody("b", ""), true).body());
        assertTrue(nulled.get("usageMetadata").isNull());
        server.setUsageMode(UsageMode.RENAMED);
        JsonNode renamed = JSON.readTree(post("/models/" + MODEL + ":generateContent", generateBody("c", ""), true).body());
        assertFalse(renamed.get("usageMetadata").has("promptTokenCount"));
        assertEquals(server.lastRequest().usage().inputTokens(), renamed.get("usageMetadata").get("prompt_token_count").asLong());

        List<RecordedRequest> requests = server.requests();
        assertEquals(3, requests.size());
        assertTrue(requests.stream().noneMatch(RecordedRequest::usageReported));
        assertEquals(requests.stream().mapToLong(r -> r.usage().totalTokens()).sum(), server.totalTokens());
    }

    @Test
    void cachedTokensAreInsideThePromptCountAndACapEndsWithMaxTokens() throws Exception {
        server.setCachedContentTokens(40);
        String capped = ",\"generationConfig\":{\"maxOutputTokens\":10,\"thinkingConfig\":{\"thinkingBudget\":0}}";
        JsonNode answer = JSON.readTree(post("/models/" + MODEL + ":generateContent",
                generateBody("Refund please.", capped), true).body());

        JsonNode usage = answer.get("usageMetadata");
        // n = 1: (46 + 14) / 4 + 1 + 7 = 23, plus 40 cached
        assertEquals(63, usage.get("promptTokenCount").asLong());
        assertEquals(40, usage.get("cachedContentTokenCount").asLong());
        assertEquals(10, usage.get("candidatesTokenCount").asLong());
        assertFalse(usage.has("thoughtsTokenCount"), "thinking was turned off: " + usage);
        assertEquals("MAX_TOKENS", answer.get("candidates").get(0).get("finishReason").asText());
        assertEquals(new StubUsage(63, 10, 40, 0), server.lastRequest().usage());

        server.reset();
        JsonNode plain = JSON.readTree(post("/models/gemini-2.0-flash:generateContent", generateBody("Hi.", ""), true)
                .body()).get("usageMetadata");
        assertFalse(plain.has("thoughtsTokenCount"), "not a thinking model: " + plain);
        assertFalse(plain.has("cachedContentTokenCount"), "reset restores no cache: " + plain);
        assertEquals(1, server.requestCount());
    }

    @Test
    void declaredFunctionsAreCalledUntilTheirResponseComesBack() throws Exception {
        String tools = ",\"tools\":[{\"functionDeclarations\":[{\"name\":\"lookup_order\",\"description\":\"Finds an"
                + " order\",\"parameters\":{\"type\":\"OBJECT\",\"properties\":{\"orderId\":{\"type\":\"STRING\"},"
                + "\"count\":{\"type\":\"INTEGER\"}}}}]}]";
        JsonNode call = JSON.readTree(post("/models/" + MODEL + ":generateContent",
                generateBody("Where is order 42?", tools), true).body());
        JsonNode functionCall = call.get("candidates").get(0).get("content").get("parts").get(0).get("functionCall");
        assertEquals("lookup_order", functionCall.get("name").asText());
        assertEquals("sample orderId", functionCall.get("args").get("orderId").asText());
        assertEquals(3, functionCall.get("args").get("count").asInt());

        String answered = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Where is order 42?\"}]},"
                + "{\"role\":\"model\",\"parts\":[{\"functionCall\":" + functionCall + "}]},"
                + "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"lookup_order\",\"response\":"
                + "{\"status\":\"shipped\"}}}]}]" + tools + "}";
        JsonNode text = JSON.readTree(post("/models/" + MODEL + ":generateContent", answered, true).body());
        assertTrue(text.get("candidates").get(0).get("content").get("parts").get(0).has("text"), text.toString());
        assertEquals(2, server.requestCount());
    }

    @Test
    void malformedRequestsAndUnknownPathsAreRefused() throws Exception {
        HttpResponse<String> noContents = post("/models/" + MODEL + ":generateContent", "{\"contents\":[]}", true);
        assertEquals(400, noContents.statusCode());
        assertEquals("INVALID_ARGUMENT", JSON.readTree(noContents.body()).get("error").get("status").asText());
        HttpResponse<String> unknown = post("/models/" + MODEL + ":predict", "{}", true);
        assertEquals(404, unknown.statusCode());
        assertEquals(1, server.requestCount(), "only the model method's request is recorded");
        assertThrows(IllegalArgumentException.class, () -> server.setFailNext(200));
    }

    // ---- the real LangChain4j Gemini client on the fake server ----

    @Test
    void langChain4jChatStreamingAndEmbeddingsReadTheAnswers() throws Exception {
        GoogleAiGeminiChatModel chat = GoogleAiGeminiChatModel.builder().apiKey(API_KEY).baseUrl(server.baseUrl())
                .modelName(MODEL).maxRetries(0).build();
        ChatResponse response = chat.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(dev.langchain4j.data.message.UserMessage.from("The printer on floor 3 jams.")).build());
        RecordedRequest first = server.lastRequest();
        assertTrue(response.aiMessage().text().startsWith("The printer on floor 3 jams."), response.toString());
        GoogleAiGeminiTokenUsage usage = (GoogleAiGeminiTokenUsage) response.tokenUsage();
        assertEquals(first.usage().inputTokens(), usage.inputTokenCount().longValue());
        assertEquals(first.usage().reasoningTokens(), usage.thoughtsTokenCount().longValue());
        assertEquals(first.usage().totalTokens(), usage.totalTokenCount().longValue());
        assertEquals(API_KEY, first.header("x-goog-api-key"));

        GoogleAiGeminiStreamingChatModel streaming = GoogleAiGeminiStreamingChatModel.builder().apiKey(API_KEY)
                .baseUrl(server.baseUrl()).modelName(MODEL).build();
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
        assertEquals("alt=sse", second.query());
        assertEquals(partial.toString(), streamed.aiMessage().text());
        assertEquals(second.usage().totalTokens(), streamed.tokenUsage().totalTokenCount().longValue());

        GoogleAiEmbeddingModel embedder = GoogleAiEmbeddingModel.builder().apiKey(API_KEY).baseUrl(server.baseUrl())
                .modelName("text-embedding-004").outputDimensionality(8).maxRetries(0).build();
        Response<Embedding> one = embedder.embed("refund request");
        assertEquals(8, one.content().dimension());
        assertTrue(server.lastRequest().path().endsWith(":embedContent"));
        Response<List<Embedding>> all = embedder.embedAll(List.of(TextSegment.from("a"), TextSegment.from("b")));
        assertEquals(2, all.content().size());
        assertTrue(server.lastRequest().path().endsWith(":batchEmbedContents"));
        assertEquals(4, server.requestCount());

        server.setFailNext(429);
        assertThrows(RateLimitException.class, () -> chat.chat("again"));
        assertEquals(5, server.requestCount(), "no retry with maxRetries(0)");
        assertNull(server.lastRequest().usage());
    }
}
