package dev.tokenguard.sample.stub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicInvalidDataException;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.BadRequestException;
import com.anthropic.errors.InternalServerException;
import com.anthropic.errors.RateLimitException;
import com.anthropic.errors.SseException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.BetaMessageAccumulator;
import com.anthropic.helpers.BetaToolRunner;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.ErrorType;
import com.anthropic.models.beta.messages.BetaMessage;
import com.anthropic.models.beta.messages.BetaRawMessageStreamEvent;
import com.anthropic.models.beta.messages.BetaStopReason;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.MessageTokensCount;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.anthropic.models.messages.Usage;
import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FakeAnthropicServerTest {

    private static final String API_KEY = "sk-ant-test-secret-key-0123456789";
    private static final String MODEL = "claude-haiku-4-5";
    private static final String SYSTEM = "You summarize support tickets in one sentence.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private FakeAnthropicServer server;
    private AnthropicClient client;

    @BeforeEach
    void start() {
        server = FakeAnthropicServer.start();
        client = AnthropicOkHttpClient.builder().apiKey(API_KEY).baseUrl(server.baseUrl()).maxRetries(0).build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private static MessageCreateParams params(String prompt, long maxTokens) {
        return MessageCreateParams.builder()
                .model(MODEL)
                .maxTokens(maxTokens)
                .system(SYSTEM)
                .addUserMessage(prompt)
                .build();
    }

    /** The uncached input_tokens of request n, worked out by hand from the documented rule. */
    private static long uncachedInput(int n, String prompt) {
        return (SYSTEM.length() + prompt.length()) / 4 + 1 + (n * 7L % 11);
    }

    /** The output tokens of request n, worked out by hand from the documented rule. */
    private static long output(int n, long maxTokens) {
        return Math.min(20 + (n * 37L % 50), maxTokens);
    }

    private static void assertUsage(StubUsage expected, Usage actual) {
        assertEquals(expected.uncachedInputTokens(), actual.inputTokens());
        assertEquals(expected.cachedTokens(), actual.cacheReadInputTokens().orElseThrow());
        assertEquals(expected.cacheWriteTokens(), actual.cacheCreationInputTokens().orElseThrow());
        assertEquals(expected.outputTokens(), actual.outputTokens());
    }

    private static String text(Message message) {
        return message.content().stream().flatMap(block -> block.text().stream())
                .map(t -> t.text()).collect(Collectors.joining());
    }

    @Test
    void syncCreateParsesAndReportsTheLedgerUsage() {
        String prompt = "My invoice shows a double charge for March.";
        Message message = client.messages().create(params(prompt, 1024));

        message.validate();
        assertEquals("claude-haiku-4-5-20251001", message.model().asString());
        assertEquals("msg_01Stub00000000000001", message.id());
        assertEquals(StopReason.END_TURN, message.stopReason().orElseThrow());
        assertTrue(message.stopSequence().isEmpty());
        assertEquals(1, message.content().size());
        String text = text(message);
        assertTrue(text.startsWith("My invoice shows a double charge for March. so the customer"), text);
        assertEquals(output(1, 1024) - 1, text.split(" ").length, "one word per output token, the stop last");

        assertEquals(1, server.requestCount());
        RecordedRequest recorded = server.lastRequest();
        assertEquals("POST", recorded.method());
        assertEquals("/v1/messages", recorded.path());
        assertEquals("", recorded.query());
        assertEquals(200, recorded.status());
        assertFalse(recorded.streaming());
        assertTrue(recorded.usageReported());
        assertNull(recorded.streamError());
        // n = 1: input = (46 + 43) / 4 + 1 + 7 = 30, output = 20 + 37 = 57
        assertEquals(30, uncachedInput(1, prompt));
        assertEquals(new StubUsage(30, 57, 0, 0, 0), recorded.usage());
        assertUsage(recorded.usage(), message.usage());
        assertEquals(0, message.usage().cacheCreation().orElseThrow().ephemeral5mInputTokens());
        assertEquals(Usage.ServiceTier.STANDARD, message.usage().serviceTier().orElseThrow());
        assertEquals(30, server.totalInputTokens());
        assertEquals(57, server.totalOutputTokens());
        assertEquals(87, server.totalTokens());
        assertTrue(recorded.body().contains("double charge"), recorded.body());
        assertTrue(server.countTokensRequests().isEmpty());
    }

    @Test
    void asyncCreateParses() throws Exception {
        Message message = client.async().messages().create(params("Async ticket about a broken link.", 512)).get();

        message.validate();
        assertEquals(1, server.requestCount());
        assertUsage(server.lastRequest().usage(), message.usage());
        assertEquals(output(1, 512), message.usage().outputTokens());
    }

    @Test
    void streamHasTheRealEventSequenceAndTheAccumulatorGetsTheLedgerUsage() {
        String prompt = "The export button does nothing.";
        MessageAccumulator accumulator = MessageAccumulator.create();
        List<RawMessageStreamEvent> events;
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params(prompt, 1024))) {
            events = stream.stream().peek(accumulator::accumulate).collect(Collectors.toList());
        }

        // pings are dropped by the SDK; the rest arrive in the API's order
        List<String> types = events.stream().map(e -> e.type().toString()).toList();
        assertEquals("message_start", types.get(0));
        assertEquals("content_block_start", types.get(1));
        assertEquals(List.of("content_block_stop", "message_delta", "message_delta", "message_stop"),
                types.subList(types.size() - 4, types.size()));
        long deltas = types.stream().filter("content_block_delta"::equals).count();
        assertEquals(types.size() - 6, deltas);
        assertTrue(deltas >= 3, "several text deltas: " + types);

        RecordedRequest recorded = server.lastRequest();
        assertTrue(recorded.streaming());
        assertTrue(recorded.usageReported());
        assertTrue(recorded.body().contains("\"stream\":true"), recorded.body());
        Usage start = events.get(0).asMessageStart().message().usage();
        assertEquals(recorded.usage().uncachedInputTokens(), start.inputTokens());
        assertEquals(1, start.outputTokens(), "message_start reports a small output count");

        // the two message_delta events carry cumulative output: the last one is the total
        long firstDelta = events.get(events.size() - 3).asMessageDelta().usage().outputTokens();
        long lastDelta = events.get(events.size() - 2).asMessageDelta().usage().outputTokens();
        // n = 1: output = 57; the first message_delta reports 57 / 2 = 28
        assertEquals(57, lastDelta);
        assertEquals(28, firstDelta);
        assertEquals(recorded.usage().outputTokens(), lastDelta);
        assertTrue(firstDelta + lastDelta != server.totalOutputTokens(), "adding them up is wrong");

        Message message = accumulator.message();
        assertUsage(recorded.usage(), message.usage());
        assertEquals(StopReason.END_TURN, message.stopReason().orElseThrow());
        String text = text(message);
        assertTrue(text.startsWith("The export button does nothing. so"), text);
        assertEquals(57 - 1, text.split(" ").length);
        assertEquals(server.totalOutputTokens(), message.usage().outputTokens());
        assertEquals(server.totalInputTokens(), message.usage().inputTokens());
    }

    @Test
    void rawStreamInterleavesPingsAndNamesEveryEvent() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"model\":\"" + MODEL + "\",\"max_tokens\":64,\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"Where is my parcel?\"}]}";
        HttpResponse<java.io.InputStream> response = http.send(HttpRequest.newBuilder(
                        URI.create(server.baseUrl() + "/v1/messages"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals("text/event-stream; charset=utf-8", response.headers().firstValue("content-type").orElseThrow());
        assertEquals("req_01Stub00000000000001", response.headers().firstValue("request-id").orElseThrow());
        List<String> eventNames = new ArrayList<>();
        List<JsonNode> data = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("event: ")) {
                    eventNames.add(line.substring(7));
                } else if (line.startsWith("data: ")) {
                    data.add(JSON.readTree(line.substring(6)));
                }
            }
        }
        assertEquals(eventNames.size(), data.size());
        for (int i = 0; i < data.size(); i++) {
            assertEquals(eventNames.get(i), data.get(i).get("type").asText(), "event name = data type at " + i);
        }
        assertEquals(2, eventNames.stream().filter("ping"::equals).count(), eventNames.toString());
        assertEquals("ping", eventNames.get(2), "a ping right after content_block_start");
        int secondPing = eventNames.lastIndexOf("ping");
        assertEquals("content_block_delta", eventNames.get(secondPing - 1));
        assertEquals("content_block_delta", eventNames.get(secondPing + 1), "the second ping among the deltas");

        JsonNode startMessage = data.get(0).get("message");
        assertEquals(0, startMessage.get("content").size());
        assertTrue(startMessage.get("stop_reason").isNull());
        JsonNode startUsage = startMessage.get("usage");
        assertEquals(Set.of("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
                        "cache_creation", "output_tokens", "service_tier", "inference_geo"),
                fieldNames(startUsage));
        JsonNode lastDelta = data.get(data.size() - 2);
        assertEquals("end_turn", lastDelta.get("delta").get("stop_reason").asText());
        assertEquals(Set.of("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"),
                fieldNames(lastDelta.get("usage")));
        assertEquals(server.lastRequest().usage().outputTokens(), lastDelta.get("usage").get("output_tokens").asLong());
        assertEquals(startUsage.get("input_tokens"), lastDelta.get("usage").get("input_tokens"));
        assertEquals("{\"type\":\"message_stop\"}", data.get(data.size() - 1).toString());
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void maxTokensCapsTheOutputAndStopsWithMaxTokens() {
        Message message = client.messages().create(params("Tell me everything about my account.", 5));
        assertEquals(5, message.usage().outputTokens());
        assertEquals(StopReason.MAX_TOKENS, message.stopReason().orElseThrow());
        assertEquals(4, text(message).split(" ").length, "four words and a stop: " + text(message));

        MessageAccumulator accumulator = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages()
                .createStreaming(params("Tell me everything again.", 3))) {
            stream.stream().forEach(accumulator::accumulate);
        }
        assertEquals(3, accumulator.message().usage().outputTokens());
        assertEquals(StopReason.MAX_TOKENS, accumulator.message().stopReason().orElseThrow());
        assertEquals(8, server.totalOutputTokens());
    }

    @Test
    void cacheTokensAreReportedAndCountedAsInput() {
        server.setCacheTokens(1200, 300);
        String prompt = "Password reset mail never arrives.";
        Message message = client.messages().create(params(prompt, 1024));

        Usage usage = message.usage();
        long uncached = uncachedInput(1, prompt);
        assertEquals(uncached, usage.inputTokens(), "input_tokens is the uncached part only");
        assertEquals(1200, usage.cacheReadInputTokens().orElseThrow());
        assertEquals(300, usage.cacheCreationInputTokens().orElseThrow());
        assertEquals(300, usage.cacheCreation().orElseThrow().ephemeral5mInputTokens());
        RecordedRequest recorded = server.lastRequest();
        assertEquals(new StubUsage(uncached + 1500, output(1, 1024), 1200, 0, 300), recorded.usage());
        assertEquals(uncached + 1500, server.totalInputTokens(), "input = input_tokens + cache read + cache write");

        MessageAccumulator accumulator = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params(prompt, 1024))) {
            stream.stream().forEach(accumulator::accumulate);
        }
        Usage streamed = accumulator.message().usage();
        assertEquals(1200, streamed.cacheReadInputTokens().orElseThrow());
        assertEquals(300, streamed.cacheCreationInputTokens().orElseThrow());
        assertEquals(uncachedInput(2, prompt), streamed.inputTokens());
        assertEquals(uncached + 1500 + uncachedInput(2, prompt) + 1500, server.totalInputTokens());

        server.setCacheTokens(0, 0);
        Usage plain = client.messages().create(params(prompt, 1024)).usage();
        assertEquals(0, plain.cacheReadInputTokens().orElseThrow());
        assertEquals(0, plain.cacheCreationInputTokens().orElseThrow());
        assertThrows(IllegalArgumentException.class, () -> server.setCacheTokens(-1, 0));
    }

    @Test
    void betaMessagesParse() {
        BetaMessage message = client.beta().messages().create(com.anthropic.models.beta.messages.MessageCreateParams
                .builder().model(MODEL).maxTokens(256).system(SYSTEM).addUserMessage("Beta ticket.").build());

        message.validate();
        RecordedRequest recorded = server.lastRequest();
        assertEquals("/v1/messages", recorded.path());
        assertEquals(recorded.usage().uncachedInputTokens(), message.usage().inputTokens());
        assertEquals(recorded.usage().outputTokens(), message.usage().outputTokens());
        assertEquals(BetaStopReason.END_TURN, message.stopReason().orElseThrow());

        BetaMessageAccumulator accumulator = BetaMessageAccumulator.create();
        try (StreamResponse<BetaRawMessageStreamEvent> stream = client.beta().messages().createStreaming(
                com.anthropic.models.beta.messages.MessageCreateParams.builder()
                        .model(MODEL).maxTokens(256).addUserMessage("Beta stream.").build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        RecordedRequest streamed = server.lastRequest();
        assertTrue(streamed.streaming());
        assertEquals(streamed.usage().outputTokens(), accumulator.message().usage().outputTokens());
        assertEquals(streamed.usage().uncachedInputTokens(), accumulator.message().usage().inputTokens());
        assertEquals(2, server.requestCount());
        assertEquals(recorded.usage().totalTokens() + streamed.usage().totalTokens(), server.totalTokens());
    }

    @Test
    void theBetaQueryOfOlderSdksIsAnsweredAndRecorded() throws Exception {
        // anthropic-java 2.x calls the beta service as POST /v1/messages?beta=true (3.x no longer adds the query)
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"model\":\"" + MODEL + "\",\"max_tokens\":64,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"abcd\"}]}";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create(server.baseUrl() + "/v1/messages?beta=true"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());

        assertEquals(200, response.statusCode(), response.body());
        JsonNode message = JSON.readTree(response.body());
        assertEquals("message", message.get("type").asText());
        RecordedRequest recorded = server.lastRequest();
        assertEquals("/v1/messages", recorded.path());
        assertEquals("beta=true", recorded.query());
        // n = 1: input = 4 / 4 + 1 + 7 = 9; output = min(20 + 37, 64) = 57
        assertEquals(new StubUsage(9, 57, 0, 0, 0), recorded.usage());
        assertEquals(9, message.get("usage").get("input_tokens").asLong());
        assertEquals(57, message.get("usage").get("output_tokens").asLong());

        HttpResponse<String> count = http.send(HttpRequest.newBuilder(
                        URI.create(server.baseUrl() + "/v1/messages/count_tokens?beta=true"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("{\"input_tokens\":2}", count.body());
        assertEquals("beta=true", server.countTokensRequests().get(0).query());
        assertEquals(1, server.requestCount());
    }

    @Test
    void countTokensIsRecordedApartAndNotCharged() {
        MessageTokensCount count = client.messages().countTokens(MessageCountTokensParams.builder()
                .model(MODEL).system(SYSTEM).addUserMessage("How many tokens is this?").build());

        // (46 + 24) / 4 + 1 = 18
        assertEquals(18, count.inputTokens());
        assertEquals(0, server.requestCount(), "count_tokens is not a model request");
        assertTrue(server.requests().isEmpty());
        assertEquals(0, server.totalTokens());
        List<RecordedRequest> counted = server.countTokensRequests();
        assertEquals(1, counted.size());
        assertEquals("/v1/messages/count_tokens", counted.get(0).path());
        assertEquals(18, counted.get(0).usage().inputTokens());
        assertEquals(1, counted.get(0).sequence());

        long beta = client.beta().messages().countTokens(com.anthropic.models.beta.messages.MessageCountTokensParams
                .builder().model(MODEL).addUserMessage("abcd").build()).inputTokens();
        assertEquals(2, beta); // 4 / 4 + 1
        assertEquals("/v1/messages/count_tokens", server.countTokensRequests().get(1).path());

        // a model request afterwards is still number 1
        client.messages().create(params("hi", 64));
        assertEquals(1, server.lastRequest().sequence());
        assertEquals(2, server.countTokensRequests().size());
    }

    private static Tool weatherTool() {
        return Tool.builder()
                .name("get_weather")
                .description("Get the weather in a given location")
                .inputSchema(Tool.InputSchema.builder()
                        .properties(JsonValue.from(Map.of(
                                "location", Map.of("type", "string", "description", "City and country"),
                                "unit", Map.of("type", "string", "enum", List.of("celsius", "fahrenheit")),
                                "days", Map.of("type", "integer"))))
                        .addRequired("location")
                        .build())
                .build();
    }

    @Test
    void toolUseRoundTrip() {
        MessageCreateParams first = MessageCreateParams.builder()
                .model(MODEL).maxTokens(512).addTool(weatherTool())
                .addUserMessage("What is the weather in Paris?")
                .build();
        Message call = client.messages().create(first);

        call.validate();
        assertEquals(StopReason.TOOL_USE, call.stopReason().orElseThrow());
        assertEquals(1, call.content().size());
        ToolUseBlock toolUse = call.content().get(0).toolUse().orElseThrow();
        assertEquals("get_weather", toolUse.name());
        assertEquals("toolu_01Stub00000000000001", toolUse.id());
        @SuppressWarnings("unchecked")
        Map<String, Object> input = toolUse._input().convert(Map.class);
        assertEquals(Map.of("location", "sample location", "unit", "celsius", "days", 3), input);
        assertTrue(server.lastRequest().body().contains("\"tools\""));

        MessageCreateParams second = first.toBuilder()
                .addMessage(call)
                .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam
                        .builder().toolUseId(toolUse.id()).content("Sunny, 21 degrees").build())))
                .build();
        Message answer = client.messages().create(second);

        assertEquals(StopReason.END_TURN, answer.stopReason().orElseThrow());
        assertTrue(answer.content().get(0).isText());
        assertEquals(2, server.requestCount());
        List<RecordedRequest> requests = server.requests();
        assertEquals(2, requests.size());
        assertTrue(requests.get(1).body().contains("\"tool_result\""), requests.get(1).body());
        assertTrue(requests.get(1).usage().inputTokens() > requests.get(0).usage().inputTokens(),
                "the second request carries the whole conversation");
        assertEquals(requests.get(0).usage().totalTokens() + requests.get(1).usage().totalTokens(), server.totalTokens());
    }

    @Test
    void toolUseStreamsItsInputAsJsonDeltas() {
        MessageAccumulator accumulator = MessageAccumulator.create();
        List<RawMessageStreamEvent> events;
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(MessageCreateParams
                .builder().model(MODEL).maxTokens(512).addTool(weatherTool()).addUserMessage("Weather?").build())) {
            events = stream.stream().peek(accumulator::accumulate).collect(Collectors.toList());
        }
        List<RawMessageStreamEvent> deltas = events.stream().filter(RawMessageStreamEvent::isContentBlockDelta).toList();
        assertEquals(3, deltas.size());
        assertTrue(deltas.stream().allMatch(e -> e.asContentBlockDelta().delta().isInputJson()));
        Message message = accumulator.message();
        assertEquals(StopReason.TOOL_USE, message.stopReason().orElseThrow());
        ContentBlock block = message.content().get(0);
        @SuppressWarnings("unchecked")
        Map<String, Object> input = block.toolUse().orElseThrow()._input().convert(Map.class);
        assertEquals("sample location", input.get("location"));
        assertEquals(server.lastRequest().usage().outputTokens(), message.usage().outputTokens());
    }

    @JsonClassDescription("Get the weather in a given location")
    static class GetWeather implements Supplier<String> {
        @JsonPropertyDescription("The city and country, e.g. Paris, France")
        public String location;

        @Override
        public String get() {
            return "The weather in " + location + " is sunny and 21 degrees";
        }
    }

    @Test
    void betaToolRunnerMakesTwoPhysicalRequestsForOneCall() {
        BetaToolRunner runner = client.beta().messages().toolRunner(com.anthropic.models.beta.messages
                .MessageCreateParams.builder()
                .model(MODEL).maxTokens(512).addUserMessage("What is the weather in Paris?")
                .addTool(GetWeather.class)
                .build());
        List<BetaMessage> messages = new ArrayList<>();
        runner.forEach(messages::add);

        assertEquals(2, messages.size());
        assertEquals(BetaStopReason.TOOL_USE, messages.get(0).stopReason().orElseThrow());
        assertEquals(BetaStopReason.END_TURN, messages.get(1).stopReason().orElseThrow());
        assertEquals(2, server.requestCount());
        List<RecordedRequest> requests = server.requests();
        assertEquals(2, requests.size());
        assertTrue(requests.get(1).body().contains("sunny and 21 degrees"), "the tool ran: " + requests.get(1).body());
        assertTrue(requests.get(1).body().contains("sample location"), requests.get(1).body());
        assertEquals(messages.get(0).usage().outputTokens() + messages.get(1).usage().outputTokens(),
                server.totalOutputTokens());
        assertEquals(messages.get(0).usage().inputTokens() + messages.get(1).usage().inputTokens(),
                server.totalInputTokens());
    }

    @Test
    void aStreamBrokenOffByAnErrorEventThrowsAndKeepsWhatWasReported() {
        server.failNextStreamMidway();
        MessageAccumulator accumulator = MessageAccumulator.create();
        List<RawMessageStreamEvent> seen = new ArrayList<>();
        SseException e = assertThrows(SseException.class, () -> {
            try (StreamResponse<RawMessageStreamEvent> stream = client.messages()
                    .createStreaming(params("This one breaks.", 1024))) {
                stream.stream().forEach(event -> {
                    seen.add(event);
                    accumulator.accumulate(event);
                });
            }
        });

        assertEquals(ErrorType.OVERLOADED_ERROR, e.errorType().orElseThrow());
        assertFalse(e.getMessage().contains(API_KEY));
        assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_delta"),
                seen.stream().map(ev -> ev.type().toString()).toList());
        RecordedRequest recorded = server.lastRequest();
        assertEquals(200, recorded.status());
        assertEquals("overloaded_error", recorded.streamError());
        assertTrue(recorded.usageReported());
        long input = seen.get(0).asMessageStart().message().usage().inputTokens();
        assertEquals(new StubUsage(input, 1, 0, 0, 0), recorded.usage(), "what message_start reported");
        assertEquals(input, server.totalInputTokens());
        assertEquals(1, server.totalOutputTokens());

        // one-shot, and a plain request is not affected by a pending stream failure
        server.failNextStreamMidway("api_error", "Internal server error");
        client.messages().create(params("not a stream", 1024)).validate();
        assertNull(server.lastRequest().streamError());
        assertThrows(SseException.class, () -> client.messages()
                .createStreaming(params("now it breaks", 1024)).stream().count());
        assertEquals("api_error", server.lastRequest().streamError());
        MessageAccumulator fine = MessageAccumulator.create();
        client.messages().createStreaming(params("and now it does not", 1024)).stream().forEach(fine::accumulate);
        assertEquals(StopReason.END_TURN, fine.message().stopReason().orElseThrow());
        assertEquals(4, server.requestCount());
    }

    @Test
    void injectedFailuresParseAsTheSdkExceptions() {
        server.setFailNext(429);
        RateLimitException rateLimited = assertThrows(RateLimitException.class,
                () -> client.messages().create(params("hi", 64)));
        assertEquals(429, rateLimited.statusCode());
        assertEquals(ErrorType.RATE_LIMIT_ERROR, rateLimited.errorType().orElseThrow());
        assertEquals("req_01Stub00000000000001", rateLimited.headers().values("request-id").get(0));

        server.setFailNext(401);
        UnauthorizedException unauthorized = assertThrows(UnauthorizedException.class,
                () -> client.messages().create(params("hi", 64)));
        assertEquals(ErrorType.AUTHENTICATION_ERROR, unauthorized.errorType().orElseThrow());
        assertFalse(unauthorized.getMessage().contains(API_KEY), "the key never appears in an error");

        server.setFailNext(529);
        InternalServerException overloaded = assertThrows(InternalServerException.class,
                () -> client.messages().createStreaming(params("hi", 64)).stream().count());
        assertEquals(ErrorType.OVERLOADED_ERROR, overloaded.errorType().orElseThrow());

        assertEquals(3, server.requestCount());
        FakeServerChecks.assertOnlyFailuresRecorded(3, server.requests(), server.totalTokens());

        client.messages().create(params("hi", 64)).validate();
        assertEquals(200, server.lastRequest().status());
    }

    @Test
    void sdkRetriesAnInjectedFailureAndEveryPhysicalRequestIsCounted() {
        AnthropicClient retrying = AnthropicOkHttpClient.builder()
                .apiKey(API_KEY).baseUrl(server.baseUrl()).maxRetries(2).build();
        try {
            server.setFailNext(529, 2);
            Message message = retrying.messages().create(params("retry me", 64));
            assertEquals(3, server.requestCount());
            assertEquals(List.of(529, 529, 200), server.requests().stream().map(RecordedRequest::status).toList());
            assertUsage(server.lastRequest().usage(), message.usage());
        } finally {
            retrying.close();
        }
    }

    @Test
    void usageModesHideOrRenameTheUsage() throws Exception {
        server.setUsageMode(UsageMode.ABSENT);
        Message absent = client.messages().create(params("no usage", 64));
        assertTrue(absent._usage().isMissing());
        assertThrows(AnthropicInvalidDataException.class, absent::usage);
        RecordedRequest recorded = server.lastRequest();
        assertFalse(recorded.usageReported());
        assertNotNull(recorded.usage(), "the ledger keeps what it would have reported");
        assertEquals(recorded.usage().totalTokens(), server.totalTokens());

        List<RawMessageStreamEvent> events;
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params("no usage", 64))) {
            events = stream.stream().collect(Collectors.toList());
        }
        assertTrue(events.get(0).asMessageStart().message()._usage().isMissing());
        List<RawMessageStreamEvent> messageDeltas = events.stream().filter(RawMessageStreamEvent::isMessageDelta).toList();
        assertEquals(2, messageDeltas.size());
        assertTrue(messageDeltas.stream().allMatch(e -> e.asMessageDelta()._usage().isMissing()));

        server.setUsageMode(UsageMode.NULL);
        Message nullUsage = client.messages().create(params("null usage", 64));
        assertTrue(nullUsage._usage().isNull());
        assertFalse(server.lastRequest().usageReported());

        server.setUsageMode(UsageMode.RENAMED);
        Message renamed = client.messages().create(params("renamed usage", 64));
        RecordedRequest renamedRecord = server.lastRequest();
        assertFalse(renamedRecord.usageReported());
        assertThrows(AnthropicInvalidDataException.class, () -> renamed.usage().inputTokens());
        Map<String, JsonValue> fields = renamed._usage().asKnown().orElseThrow()._additionalProperties();
        assertEquals(renamedRecord.usage().uncachedInputTokens(),
                (long) fields.get("in_tokens").convert(Long.class));
        assertEquals(renamedRecord.usage().outputTokens(), (long) fields.get("out_tokens").convert(Long.class));

        server.setUsageMode(UsageMode.NORMAL);
        Message normal = client.messages().create(params("usage again", 64));
        assertTrue(server.lastRequest().usageReported());
        assertUsage(server.lastRequest().usage(), normal.usage());
        assertEquals(5, server.requestCount());
        assertThrows(IllegalArgumentException.class, () -> server.setUsageMode(null));
    }

    @Test
    void malformedRequestsAndUnknownPathsGetAnthropicErrorBodies() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> notFound = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/complete"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, notFound.statusCode());
        JsonNode error = JSON.readTree(notFound.body());
        assertEquals("error", error.get("type").asText());
        assertEquals("not_found_error", error.get("error").get("type").asText());
        assertEquals(0, server.requestCount(), "unknown paths are not model requests");

        HttpResponse<String> noMaxTokens = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/messages"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + MODEL + "\",\"messages\":[]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, noMaxTokens.statusCode());
        assertEquals("max_tokens: Field required", JSON.readTree(noMaxTokens.body()).get("error").get("message").asText());
        assertEquals("invalid_request_error", JSON.readTree(noMaxTokens.body()).get("error").get("type").asText());

        HttpResponse<String> malformed = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/messages"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\": ")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, malformed.statusCode());
        assertEquals(2, server.requestCount());
        assertNull(server.lastRequest().usage());

        BadRequestException viaSdk = assertThrows(BadRequestException.class, () -> client.messages().create(
                params("x", 64).toBuilder().putAdditionalBodyProperty("model", JsonValue.from("")).build()));
        assertEquals(ErrorType.INVALID_REQUEST_ERROR, viaSdk.errorType().orElseThrow());
        assertTrue(viaSdk instanceof AnthropicServiceException);

        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/messages"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, get.statusCode());
    }

    @Test
    void concurrentRequestsAreAllRecordedWithExactTotals() throws Exception {
        int threads = 6;
        int callsPerThread = 4;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        List<java.util.concurrent.Future<long[]>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                long[] sums = new long[2];
                for (int i = 0; i < callsPerThread; i++) {
                    MessageCreateParams p = params("thread " + thread + " call " + i, 256);
                    Usage usage;
                    if (i % 2 == 0) {
                        usage = client.messages().create(p).usage();
                    } else {
                        MessageAccumulator accumulator = MessageAccumulator.create();
                        try (StreamResponse<RawMessageStreamEvent> s = client.messages().createStreaming(p)) {
                            s.stream().forEach(accumulator::accumulate);
                        }
                        usage = accumulator.message().usage();
                    }
                    sums[0] += usage.inputTokens();
                    sums[1] += usage.outputTokens();
                }
                return sums;
            }));
        }
        long[] sums = FakeServerChecks.addUp(futures, threads);
        pool.shutdown();
        assertEquals(threads * callsPerThread, server.requestCount());
        assertEquals(threads * callsPerThread, server.requests().stream().map(RecordedRequest::sequence).distinct().count());
        assertEquals(sums[0], server.totalInputTokens());
        assertEquals(sums[1], server.totalOutputTokens());
    }

    @Test
    void resetRestoresEveryDefault() {
        server.setCacheTokens(10, 20);
        server.setUsageMode(UsageMode.ABSENT);
        client.messages().create(params("hi", 64));
        client.messages().countTokens(MessageCountTokensParams.builder().model(MODEL).addUserMessage("hi").build());
        server.setFailNext(500, 3);
        server.failNextStreamMidway();
        server.reset();

        assertEquals(0, server.requestCount());
        assertEquals(0, server.totalTokens());
        assertTrue(server.requests().isEmpty());
        assertTrue(server.countTokensRequests().isEmpty());
        MessageAccumulator accumulator = MessageAccumulator.create();
        client.messages().createStreaming(params("hi", 64)).stream().forEach(accumulator::accumulate);
        RecordedRequest recorded = server.lastRequest();
        assertEquals(1, recorded.sequence());
        assertTrue(recorded.usageReported());
        assertNull(recorded.streamError());
        assertEquals(0, accumulator.message().usage().cacheReadInputTokens().orElseThrow());
        assertEquals(0, recorded.usage().cachedTokens());
    }

    @Test
    void switchesRejectBadValues() {
        assertEquals("setFailNext status must be an HTTP error status 400..599, got 200",
                assertThrows(IllegalArgumentException.class, () -> server.setFailNext(200)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> server.setFailNext(429, -1));
        assertThrows(IllegalArgumentException.class, () -> server.failNextStreamMidway(" ", "x"));
    }

    @Test
    void theApiKeyIsRecordedButNeverPrinted() {
        client.messages().create(params("hi", 64));
        RecordedRequest recorded = server.lastRequest();
        // anthropic-java 3.x sends the key as a bearer token (2.x as x-api-key)
        FakeServerChecks.assertKeyRecordedButNeverPrinted(recorded, API_KEY, server);
        assertNotNull(recorded.header("anthropic-version"));
    }

    @Test
    void bindsLoopbackOnAFreePortWithDaemonThreads() {
        try (FakeAnthropicServer other = FakeAnthropicServer.start()) {
            assertTrue(other.port() > 0 && other.port() != server.port());
            assertEquals("http://127.0.0.1:" + other.port(), other.baseUrl());
        }
        client.messages().create(params("hi", 64));
        FakeServerChecks.assertServerThreadsAreDaemons(name -> name.startsWith("fake-anthropic-"));
    }
}
