package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fake Bedrock server on the wire, with a plain HTTP client: the shapes the real service answers with, and
 * token figures worked out by hand from the documented rules (input = prompt characters / 4 + 1 + (n * 7 % 11),
 * output = 20 + (n * 37 % 50), n the request's sequence number).
 */
class FakeBedrockServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static FakeBedrockServer server;

    @BeforeAll
    static void start() {
        server = FakeBedrockServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void reset() {
        server.reset();
    }

    static HttpResponse<byte[]> post(String model, String action, String body) throws Exception {
        URI uri = URI.create(server.baseUrl() + "/model/" + URLEncoder.encode(model, StandardCharsets.UTF_8) + "/"
                + action);
        return HTTP.send(HttpRequest.newBuilder(uri).header("authorization", "AWS4-HMAC-SHA256 Credential=AKIDX/...")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    // 16 characters of prompt: "You are helpful." is 16, "Hi there" is 8: 24 / 4 = 6
    static final String CONVERSE = "{\"system\":[{\"text\":\"You are helpful.\"}],\"messages\":[{\"role\":\"user\","
            + "\"content\":[{\"text\":\"Hi there\"}]}],\"inferenceConfig\":{\"maxTokens\":100}}";

    @Test
    void converseAnswersWithUsageApartFromTheCacheFigures() throws Exception {
        server.setCacheTokens(30, 5);
        HttpResponse<byte[]> response = post(FakeBedrockServer.CLAUDE, "converse", CONVERSE);
        assertEquals(200, response.statusCode());
        JsonNode body = JSON.readTree(response.body());
        // n = 1: input 6 + 1 + 7 = 14; output 20 + 37 = 57
        assertEquals(14, body.at("/usage/inputTokens").asLong());
        assertEquals(57, body.at("/usage/outputTokens").asLong());
        assertEquals(30, body.at("/usage/cacheReadInputTokens").asLong());
        assertEquals(5, body.at("/usage/cacheWriteInputTokens").asLong());
        assertEquals(14 + 30 + 5 + 57, body.at("/usage/totalTokens").asLong());
        assertEquals("end_turn", body.get("stopReason").asText());
        assertTrue(body.at("/output/message/content/0/text").asText().startsWith("Hi there"));
        assertEquals(14 + 30 + 5, server.totalInputTokens());
        assertEquals(57, server.totalOutputTokens());
        RecordedRequest recorded = server.lastRequest();
        assertEquals("/model/" + FakeBedrockServer.CLAUDE + "/converse", recorded.path());
        assertFalse(recorded.toString().contains("AKIDX"), recorded.toString());
    }

    @Test
    void converseStreamIsAnEventStreamEndingWithTheUsageInItsMetadataEvent() throws Exception {
        HttpResponse<byte[]> response = post(FakeBedrockServer.CLAUDE, "converse-stream", CONVERSE);
        assertEquals("application/vnd.amazon.eventstream", response.headers().firstValue("content-type").orElse(""));
        List<AwsEventStream.Message> events = AwsEventStream.decodeAll(response.body());
        List<String> types = events.stream().map(e -> e.headers().get(":event-type")).toList();
        assertEquals(List.of("messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta",
                "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"), types);
        JsonNode metadata = JSON.readTree(events.get(events.size() - 1).payload());
        assertEquals(14, metadata.at("/usage/inputTokens").asLong());
        assertEquals(57, metadata.at("/usage/outputTokens").asLong());
        StringBuilder text = new StringBuilder();
        for (AwsEventStream.Message e : events.subList(1, 5)) {
            text.append(JSON.readTree(e.payload()).at("/delta/text").asText());
        }
        assertEquals(57 - 1, text.toString().split(" ").length, "about as many words as output tokens: " + text);
    }

    @Test
    void invokeCarriesTheCountsInHeadersAndTheInvokeStreamInItsLastChunk() throws Exception {
        String anthropic = "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":30,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"12345678\"}]}";
        HttpResponse<byte[]> response = post(FakeBedrockServer.CLAUDE, "invoke", anthropic);
        // n = 1: input 8 / 4 + 1 + 7 = 10; output min(57, 30) = 30, stopped by max_tokens
        assertEquals("10", response.headers().firstValue(FakeBedrockServer.INPUT_TOKENS_HEADER).orElse(null));
        assertEquals("30", response.headers().firstValue(FakeBedrockServer.OUTPUT_TOKENS_HEADER).orElse(null));
        assertEquals("max_tokens", JSON.readTree(response.body()).get("stop_reason").asText());

        HttpResponse<byte[]> stream = post(FakeBedrockServer.CLAUDE, "invoke-with-response-stream", anthropic);
        List<AwsEventStream.Message> chunks = AwsEventStream.decodeAll(stream.body());
        assertEquals(9, chunks.size());
        assertTrue(chunks.stream().allMatch(c -> c.headers().get(":event-type").equals("chunk")));
        JsonNode last = JSON.readTree(Base64.getDecoder().decode(JSON.readTree(chunks.get(8).payload())
                .get("bytes").asText()));
        assertEquals("message_stop", last.get("type").asText());
        // n = 2: input 2 + 1 + 14 % 11 = 6; output 20 + 74 % 50 = 44, capped at 30
        assertEquals(6, last.at("/amazon-bedrock-invocationMetrics/inputTokenCount").asLong());
        assertEquals(30, last.at("/amazon-bedrock-invocationMetrics/outputTokenCount").asLong());
        assertEquals(10 + 6, server.totalInputTokens());
        assertEquals(60, server.totalOutputTokens());
        assertEquals(2, server.requestCount());
    }

    @Test
    void usageLeftOutAndInjectedFailures() throws Exception {
        server.setUsageMode(UsageMode.ABSENT);
        HttpResponse<byte[]> response = post(FakeBedrockServer.CLAUDE, "converse", CONVERSE);
        assertFalse(JSON.readTree(response.body()).has("usage"));
        assertFalse(server.lastRequest().usageReported());
        server.setFailNext(429);
        HttpResponse<byte[]> failed = post(FakeBedrockServer.CLAUDE, "converse", CONVERSE);
        assertEquals(429, failed.statusCode());
        assertTrue(failed.headers().firstValue("x-amzn-ErrorType").orElse("").startsWith("ThrottlingException"));
        assertEquals(2, server.requestCount());
        assertFalse(server.lastRequest().answered());
        assertEquals(404, post(FakeBedrockServer.CLAUDE, "count-tokens", CONVERSE).statusCode());
    }
}
