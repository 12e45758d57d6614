package dev.tokenguard.sample.stub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.embeddings.EmbeddingModel;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ResponseUsage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FakeOpenAiServerTest {

    private static final String API_KEY = "sk-test-secret-key-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();

    private FakeOpenAiServer server;
    private OpenAIClient client;

    @BeforeEach
    void start() {
        server = FakeOpenAiServer.start();
        client = OpenAIOkHttpClient.builder().apiKey(API_KEY).baseUrl(server.baseUrl()).maxRetries(0).build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private static ChatCompletionCreateParams chat(String model, String prompt) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addSystemMessage("You summarize support tickets in one sentence.")
                .addUserMessage(prompt)
                .build();
    }

    private static void assertChatUsage(StubUsage expected, CompletionUsage actual) {
        assertEquals(expected.inputTokens(), actual.promptTokens());
        assertEquals(expected.outputTokens(), actual.completionTokens());
        assertEquals(expected.totalTokens(), actual.totalTokens());
        assertEquals(expected.cachedTokens(), actual.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow());
        assertEquals(expected.reasoningTokens(),
                actual.completionTokensDetails().orElseThrow().reasoningTokens().orElseThrow());
    }

    private static void assertResponseUsage(StubUsage expected, ResponseUsage actual) {
        assertEquals(expected.inputTokens(), actual.inputTokens());
        assertEquals(expected.outputTokens(), actual.outputTokens());
        assertEquals(expected.totalTokens(), actual.totalTokens());
        assertEquals(expected.cachedTokens(), actual.inputTokensDetails().cachedTokens());
        assertEquals(expected.reasoningTokens(), actual.outputTokensDetails().reasoningTokens());
    }

    @Test
    void chatCompletionParsesWithTheRealSdkAndReportsTheRecordedUsage() {
        ChatCompletion completion = client.chat().completions()
                .create(chat("gpt-4o-mini", "My invoice shows a double charge for March."));

        completion.validate();
        assertEquals("gpt-4o-mini-2024-07-18", completion.model());
        assertEquals(1, completion.choices().size());
        ChatCompletion.Choice choice = completion.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, choice.finishReason());
        String content = choice.message().content().orElseThrow();
        assertTrue(content.startsWith("My invoice shows a double charge for March. so the customer"), content);

        assertEquals(1, server.requestCount());
        RecordedRequest recorded = server.lastRequest();
        assertEquals("POST", recorded.method());
        assertEquals("/v1/chat/completions", recorded.path());
        assertEquals(200, recorded.status());
        assertFalse(recorded.streaming());
        assertTrue(recorded.usageReported());
        assertChatUsage(recorded.usage(), completion.usage().orElseThrow());
        assertEquals(recorded.usage().inputTokens(), server.totalInputTokens());
        assertEquals(recorded.usage().outputTokens(), server.totalOutputTokens());
        assertTrue(recorded.body().contains("double charge"), recorded.body());
    }

    @Test
    void chatStreamWithoutIncludeUsageHasNoUsageChunkButRecordsComputedUsage() {
        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions()
                .createStreaming(chat("gpt-4o-mini", "The export button does nothing."))) {
            chunks = stream.stream().collect(Collectors.toList());
        }

        chunks.forEach(ChatCompletionChunk::validate);
        assertTrue(chunks.size() >= 4, "role delta, content deltas and a finish chunk, got " + chunks.size());
        assertTrue(chunks.stream().allMatch(c -> c.usage().isEmpty()), "no chunk carries usage");
        assertTrue(chunks.stream().allMatch(c -> c._usage().isMissing()), "usage field absent, not null");
        assertTrue(chunks.stream().allMatch(c -> c.choices().size() == 1), "no usage-only chunk");
        assertEquals(ChatCompletion.Choice.FinishReason.STOP.toString(),
                chunks.get(chunks.size() - 1).choices().get(0).finishReason().orElseThrow().toString());
        assertEquals(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT,
                chunks.get(0).choices().get(0).delta().role().orElseThrow());

        RecordedRequest recorded = server.lastRequest();
        assertTrue(recorded.streaming());
        assertFalse(recorded.usageReported());
        assertNotNull(recorded.usage());
        String text = chunks.stream().map(c -> c.choices().get(0).delta().content().orElse(""))
                .collect(Collectors.joining());
        long words = text.split(" ").length;
        assertEquals(recorded.usage().outputTokens() - 1, words, "about one word per output token: " + text);
        assertEquals(recorded.usage().outputTokens(), server.totalOutputTokens());
    }

    @Test
    void chatStreamWithIncludeUsageEndsWithAUsageOnlyChunk() {
        ChatCompletionCreateParams params = chat("gpt-4o-mini", "Password reset mail never arrives.").toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();
        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            chunks = stream.stream().collect(Collectors.toList());
        }

        chunks.forEach(ChatCompletionChunk::validate);
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty(), "usage chunk has empty choices");
        List<ChatCompletionChunk> earlier = chunks.subList(0, chunks.size() - 1);
        assertTrue(earlier.stream().allMatch(c -> c._usage().isNull()), "earlier chunks carry usage: null");
        assertTrue(earlier.stream().allMatch(c -> c.choices().size() == 1));

        RecordedRequest recorded = server.lastRequest();
        assertTrue(recorded.streaming());
        assertTrue(recorded.usageReported());
        assertChatUsage(recorded.usage(), last.usage().orElseThrow());
        assertTrue(recorded.body().contains("\"include_usage\":true"), recorded.body());
    }

    @Test
    void responsesCreateParsesAndValidates() {
        Response response = client.responses().create(ResponseCreateParams.builder()
                .model("gpt-4.1-mini")
                .instructions("Summarize the ticket.")
                .input("The mobile app crashes when I open settings.")
                .build());

        response.validate();
        assertEquals(ResponseStatus.COMPLETED, response.status().orElseThrow());
        assertEquals("gpt-4.1-mini-2025-04-14", response.model().asChat().asString());
        String text = response.output().get(0).message().orElseThrow()
                .content().get(0).outputText().orElseThrow().text();
        assertTrue(text.startsWith("The mobile app crashes when I open settings. so"), text);

        RecordedRequest recorded = server.lastRequest();
        assertEquals("/v1/responses", recorded.path());
        assertTrue(recorded.usageReported());
        assertResponseUsage(recorded.usage(), response.usage().orElseThrow());
    }

    @Test
    void responsesStreamEndsWithCompletedEventCarryingUsage() {
        List<ResponseStreamEvent> events;
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(
                ResponseCreateParams.builder().model("gpt-4o").input("Shipping label is wrong.").build())) {
            events = stream.stream().collect(Collectors.toList());
        }

        events.forEach(ResponseStreamEvent::validate);
        assertTrue(events.get(0).isCreated());
        assertTrue(events.stream().filter(ResponseStreamEvent::isOutputTextDelta).count() >= 2);
        ResponseStreamEvent last = events.get(events.size() - 1);
        assertTrue(last.isCompleted());
        Response response = last.asCompleted().response();
        assertEquals(ResponseStatus.COMPLETED, response.status().orElseThrow());
        assertEquals(events.size() - 1, last.asCompleted().sequenceNumber());
        assertTrue(events.get(0).asCreated().response().usage().isEmpty(), "created event has no usage yet");

        String deltas = events.stream().filter(ResponseStreamEvent::isOutputTextDelta)
                .map(e -> e.asOutputTextDelta().delta()).collect(Collectors.joining());
        String finalText = response.output().get(0).message().orElseThrow()
                .content().get(0).outputText().orElseThrow().text();
        assertEquals(finalText, deltas);

        RecordedRequest recorded = server.lastRequest();
        assertTrue(recorded.streaming());
        assertTrue(recorded.usageReported());
        assertResponseUsage(recorded.usage(), response.usage().orElseThrow());
    }

    @Test
    void embeddingsParseAsFloatsAndAsBase64() {
        CreateEmbeddingResponse byDefault = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL)
                .inputOfArrayOfStrings(List.of("refund request", "login problem"))
                .build());
        byDefault.validate();
        assertEquals(2, byDefault.data().size());
        assertEquals(8, byDefault.data().get(1).embedding().size());
        RecordedRequest first = server.lastRequest();
        assertTrue(first.body().contains("\"encoding_format\":\"base64\""), "this SDK asks for base64: " + first.body());
        List<Float> decoded = byDefault.data().get(0).embedding();
        assertTrue(decoded.stream().allMatch(v -> v >= -0.1f && v <= 0.1f), "decoded floats: " + decoded);
        assertTrue(decoded.stream().anyMatch(v -> v != 0f), "decoded floats: " + decoded);
        assertEquals(first.usage().inputTokens(), byDefault.usage().promptTokens());
        assertEquals(first.usage().inputTokens(), byDefault.usage().totalTokens());
        assertEquals(0, first.usage().outputTokens());

        CreateEmbeddingResponse floats = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL)
                .input("refund request")
                .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT)
                .build());
        floats.validate();
        assertEquals(1, floats.data().size());
        assertEquals(8, floats.data().get(0).embedding().size());
        assertEquals(server.lastRequest().usage().inputTokens(), floats.usage().promptTokens());
        assertEquals(first.usage().inputTokens() + server.lastRequest().usage().inputTokens(),
                server.totalInputTokens());
        assertEquals(0, server.totalOutputTokens());
    }

    @Test
    void asyncCreateParses() throws Exception {
        ChatCompletion completion = client.async().chat().completions()
                .create(chat("gpt-4o-mini", "Async ticket about a broken link.")).get();
        completion.validate();
        assertChatUsage(server.lastRequest().usage(), completion.usage().orElseThrow());
    }

    @Test
    void tokenCountsVaryBetweenRequestsAndTotalsAddUp() {
        Set<Long> inputs = new HashSet<>();
        Set<Long> outputs = new HashSet<>();
        long input = 0;
        long output = 0;
        for (int i = 0; i < 6; i++) {
            CompletionUsage usage = client.chat().completions().create(chat("gpt-4o-mini", "Same prompt."))
                    .usage().orElseThrow();
            inputs.add(usage.promptTokens());
            outputs.add(usage.completionTokens());
            input += usage.promptTokens();
            output += usage.completionTokens();
        }
        assertTrue(inputs.size() >= 4, "input tokens vary for the same prompt: " + inputs);
        assertTrue(outputs.size() >= 4, "output tokens vary: " + outputs);
        assertEquals(input, server.totalInputTokens());
        assertEquals(output, server.totalOutputTokens());
        assertEquals(input + output, server.totalTokens());
        List<RecordedRequest> requests = server.requests();
        assertEquals(6, requests.size());
        assertEquals(List.of(1, 2, 3, 4, 5, 6), requests.stream().map(RecordedRequest::sequence).toList());
        assertTrue(requests.get(2).usage().cachedTokens() > 0, "every third request has cached tokens");
        assertEquals(0, requests.get(0).usage().cachedTokens());
        assertTrue(requests.stream().allMatch(r -> r.usage().reasoningTokens() == 0), "gpt-4o-mini does not reason");

        long longer = client.chat().completions().create(chat("gpt-4o-mini", "x".repeat(4000)))
                .usage().orElseThrow().promptTokens();
        assertTrue(longer >= 1000, "input grows with the prompt: " + longer);
    }

    @Test
    void reasoningModelsReportReasoningTokens() {
        CompletionUsage o = client.chat().completions().create(chat("o4-mini", "Why is it slow?")).usage().orElseThrow();
        assertTrue(o.completionTokensDetails().orElseThrow().reasoningTokens().orElseThrow() > 0);
        Response gpt5 = client.responses().create(ResponseCreateParams.builder().model("gpt-5").input("Hi").build());
        assertTrue(gpt5.usage().orElseThrow().outputTokensDetails().reasoningTokens() > 0);
        gpt5.validate();
    }

    @Test
    void maxOutputTokensCapsTheOutput() {
        ChatCompletion completion = client.chat().completions().create(chat("gpt-4o-mini", "Long story please")
                .toBuilder().maxCompletionTokens(5).build());
        assertEquals(5, completion.usage().orElseThrow().completionTokens());
        assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, completion.choices().get(0).finishReason());

        Response response = client.responses().create(ResponseCreateParams.builder()
                .model("gpt-4o").input("Long story please").maxOutputTokens(16).build());
        response.validate();
        assertEquals(ResponseStatus.INCOMPLETE, response.status().orElseThrow());
        assertEquals(16, response.usage().orElseThrow().outputTokens());
    }

    @Test
    void injectedFailuresParseAsTheSdkExceptions() {
        server.setFailNext(429);
        RateLimitException rateLimited = assertThrows(RateLimitException.class,
                () -> client.chat().completions().create(chat("gpt-4o-mini", "hi")));
        assertEquals(429, rateLimited.statusCode());
        assertEquals("rate_limit_exceeded", rateLimited.code().orElseThrow());
        assertEquals("tokens", rateLimited.type().orElseThrow());

        server.setFailNext(400);
        assertEquals(400, assertThrows(BadRequestException.class,
                () -> client.responses().create(ResponseCreateParams.builder().model("gpt-4o").input("x").build()))
                .statusCode());

        server.setFailNext(401);
        UnauthorizedException unauthorized = assertThrows(UnauthorizedException.class,
                () -> client.embeddings().create(EmbeddingCreateParams.builder()
                        .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL).input("x").build()));
        assertFalse(unauthorized.getMessage().contains(API_KEY), "the key never appears in an error");

        server.setFailNext(500);
        assertThrows(InternalServerException.class, () -> client.chat().completions()
                .createStreaming(chat("gpt-4o-mini", "hi")).stream().count());

        assertEquals(4, server.requestCount());
        FakeServerChecks.assertOnlyFailuresRecorded(4, server.requests(), server.totalTokens());

        // the failure is one-shot: the next request succeeds
        client.chat().completions().create(chat("gpt-4o-mini", "hi")).validate();
        assertEquals(200, server.lastRequest().status());
    }

    @Test
    void sdkRetriesAnInjectedFailureAndEveryPhysicalRequestIsCounted() {
        OpenAIClient retrying = OpenAIOkHttpClient.builder()
                .apiKey(API_KEY).baseUrl(server.baseUrl()).maxRetries(2).build();
        try {
            server.setFailNext(503, 2);
            ChatCompletion completion = retrying.chat().completions().create(chat("gpt-4o-mini", "retry me"));
            assertEquals(3, server.requestCount());
            assertEquals(List.of(503, 503, 200), server.requests().stream().map(RecordedRequest::status).toList());
            assertChatUsage(server.lastRequest().usage(), completion.usage().orElseThrow());
        } finally {
            retrying.close();
        }
    }

    @Test
    void unknownPathsAndMalformedJsonGetOpenAiErrorBodies() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> notFound = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/nothing"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, notFound.statusCode());
        JsonNode error = JSON.readTree(notFound.body()).get("error");
        assertEquals("Invalid URL (POST /v1/nothing)", error.get("message").asText());
        assertEquals("invalid_request_error", error.get("type").asText());
        assertTrue(error.has("param") && error.get("param").isNull());
        assertTrue(error.has("code") && error.get("code").isNull());
        assertEquals(0, server.requestCount(), "unknown paths are not model requests");

        HttpResponse<String> malformed = http.send(HttpRequest.newBuilder(
                        URI.create(server.baseUrl() + "/chat/completions"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"gpt-4o\", ")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, malformed.statusCode());
        assertTrue(JSON.readTree(malformed.body()).get("error").get("message").asText()
                .startsWith("We could not parse the JSON body"));
        assertEquals(1, server.requestCount());
        assertEquals(400, server.lastRequest().status());
        assertNull(server.lastRequest().usage());

        HttpResponse<String> noModel = http.send(HttpRequest.newBuilder(
                        URI.create(server.baseUrl() + "/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": []}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, noModel.statusCode());
        assertEquals("you must provide a model parameter",
                JSON.readTree(noModel.body()).get("error").get("message").asText());

        HttpResponse<String> oddShape = http.send(HttpRequest.newBuilder(
                        URI.create(server.baseUrl() + "/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"gpt-4o\", \"messages\": [1, \"x\", {\"content\": 5}]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, oddShape.statusCode(), oddShape.body());
        assertTrue(server.lastRequest().usage().inputTokens() >= 1);

        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, get.statusCode());
    }

    @Test
    void missingModelThroughTheSdkIsABadRequestException() {
        OpenAIServiceException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(
                ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI).messages(List.of()).build()
                        .toBuilder().putAdditionalBodyProperty("model", com.openai.core.JsonValue.from("")).build()));
        assertEquals("invalid_request_error", e.type().orElseThrow());
    }

    @Test
    void aStreamClosedEarlyIsStillRecordedAndTheServerKeepsServing() {
        ChatCompletionChunk first;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions()
                .createStreaming(chat("gpt-4o-mini", "close me early"))) {
            first = stream.stream().findFirst().orElseThrow();
        }
        assertEquals(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT, first.choices().get(0).delta().role().orElseThrow());
        RecordedRequest recorded = server.lastRequest();
        assertTrue(recorded.streaming());
        assertNotNull(recorded.usage());
        assertEquals(recorded.usage().outputTokens(), server.totalOutputTokens());

        client.chat().completions().create(chat("gpt-4o-mini", "still there?")).validate();
        assertEquals(2, server.requestCount());
    }

    @Test
    void concurrentRequestsAreAllRecordedWithExactTotals() throws Exception {
        int threads = 6;
        int callsPerThread = 5;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        List<java.util.concurrent.Future<long[]>> futures = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                long[] sums = new long[2];
                for (int i = 0; i < callsPerThread; i++) {
                    CompletionUsage usage = client.chat().completions()
                            .create(chat("gpt-4o-mini", "thread " + thread + " call " + i)).usage().orElseThrow();
                    sums[0] += usage.promptTokens();
                    sums[1] += usage.completionTokens();
                }
                return sums;
            }));
        }
        long[] sums = FakeServerChecks.addUp(futures, threads);
        pool.shutdown();
        assertEquals(threads * callsPerThread, server.requestCount());
        assertEquals(threads * callsPerThread, server.requests().size());
        assertEquals(sums[0], server.totalInputTokens());
        assertEquals(sums[1], server.totalOutputTokens());
        assertEquals(threads * callsPerThread,
                server.requests().stream().map(RecordedRequest::sequence).distinct().count());
    }

    @Test
    void resetForgetsEverything() {
        client.chat().completions().create(chat("gpt-4o-mini", "hi"));
        server.setFailNext(500, 3);
        server.reset();
        assertEquals(0, server.requestCount());
        assertEquals(0, server.totalTokens());
        assertTrue(server.requests().isEmpty());
        client.chat().completions().create(chat("gpt-4o-mini", "hi")).validate();
        assertEquals(1, server.lastRequest().sequence());
    }

    @Test
    void setFailNextRejectsNonErrorStatuses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> server.setFailNext(200));
        assertEquals("setFailNext status must be an HTTP error status 400..599, got 200", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> server.setFailNext(429, -1));
    }

    @Test
    void headersAreRecordedInLowerCaseButNeverPrinted() {
        client.chat().completions().create(chat("gpt-4o-mini", "hi"));
        FakeServerChecks.assertKeyRecordedButNeverPrinted(server.lastRequest(), API_KEY, server);
    }

    @Test
    void bindsLoopbackOnAFreePortWithDaemonThreads() {
        try (FakeOpenAiServer other = FakeOpenAiServer.start()) {
            assertTrue(other.port() > 0 && other.port() != server.port());
            assertEquals("http://127.0.0.1:" + other.port() + "/v1", other.baseUrl());
        }
        client.chat().completions().create(chat("gpt-4o-mini", "hi"));
        FakeServerChecks.assertServerThreadsAreDaemons(
                name -> name.startsWith("fake-openai-") || name.equals("HTTP-Dispatcher"));
    }

    @Test
    void aChatRequestWithToolsIsAnsweredWithACallOfTheFirstToolUntilTheToolResultComesBack() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String tools = "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"current_weather\","
                + " \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"},"
                + " \"days\": {\"type\": \"integer\"}}}}}]";
        String ask = "{\"model\": \"gpt-4o-mini\", " + tools
                + ", \"messages\": [{\"role\": \"user\", \"content\": \"Weather in Lisbon?\"}]}";
        JsonNode first = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(ask)).build(), HttpResponse.BodyHandlers.ofString()).body());
        JsonNode choice = first.get("choices").get(0);
        assertEquals("tool_calls", choice.get("finish_reason").asText());
        assertTrue(choice.get("message").get("content").isNull());
        JsonNode calls = choice.get("message").get("tool_calls");
        assertEquals(1, calls.size());
        assertEquals("call_stub1", calls.get(0).get("id").asText());
        assertEquals("current_weather", calls.get(0).get("function").get("name").asText());
        assertEquals(JSON.readTree("{\"city\": \"sample city\", \"days\": 3}"),
                JSON.readTree(calls.get(0).get("function").get("arguments").asText()));
        assertEquals(server.requests().get(0).usage().outputTokens(), first.get("usage").get("completion_tokens").asLong());

        String answer = "{\"model\": \"gpt-4o-mini\", " + tools + ", \"messages\": ["
                + "{\"role\": \"user\", \"content\": \"Weather in Lisbon?\"},"
                + "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": " + calls + "},"
                + "{\"role\": \"tool\", \"tool_call_id\": \"call_stub1\", \"content\": \"Sunny\"}]}";
        JsonNode second = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(answer)).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertEquals("stop", second.get("choices").get(0).get("finish_reason").asText());
        assertFalse(second.get("choices").get(0).get("message").has("tool_calls"));
        assertFalse(second.get("choices").get(0).get("message").get("content").asText().isEmpty());
        assertEquals(2, server.requestCount());
    }
}
