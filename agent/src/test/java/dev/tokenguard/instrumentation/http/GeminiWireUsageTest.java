package dev.tokenguard.instrumentation.http;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.tokenguard.instrumentation.http.WireFeed.read;
import static dev.tokenguard.instrumentation.http.WireFeed.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GeminiWireUsageTest {

    @Test
    void thinkingTokensAreOutputAndReasoningAndCachedTokensArePartOfThePrompt() {
        String body = """
                {
                  "candidates": [{"content": {"parts": [{"text": "Ein Würfel 🎲"}], "role": "model"},
                                  "finishReason": "STOP", "index": 0}],
                  "usageMetadata": {"promptTokenCount": 4120, "cachedContentTokenCount": 4000,
                                    "candidatesTokenCount": 230, "totalTokenCount": 4600, "thoughtsTokenCount": 250},
                  "modelVersion": "gemini-2.5-flash",
                  "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"
                }
                """;
        // output 230 + 250 = 480; 4120 + 480 = 4600, the total
        readAll(WireApi.GEMINI_GENERATE, body, new Usage(4120L, 480L, 4000L, null, 250L, "gemini-2.5-flash",
                "mAitaLmkHPPlz7IPvtfUqQ4", List.of("STOP"), UsageSource.PROVIDER), null);
        assertEquals("Ein Würfel 🎲", read(WireApi.GEMINI_GENERATE, body, 1).text().toString());
    }

    static final String CHUNK_1 = "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Der\"}],\"role\": \"model\"},"
            + "\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},"
            + "\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"r1\"}";
    static final String CHUNK_2 = "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" Würfel\"}],\"role\": \"model\"},"
            + "\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,"
            + "\"candidatesTokenCount\": 18,\"totalTokenCount\": 27,\"promptTokensDetails\": [{\"modality\": \"TEXT\","
            + "\"tokenCount\": 9}]},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"r1\"}";
    static final Usage STREAM_USAGE = new Usage(9L, 18L, null, null, null, "gemini-2.0-flash", "r1", List.of("STOP"),
            UsageSource.PROVIDER);

    @Test
    void eventStreamTakesTheLastChunksUsage() {
        String body = "data: " + CHUNK_1 + "\r\n\r\ndata: " + CHUNK_2 + "\r\n\r\n";
        readAll(WireApi.GEMINI_GENERATE, body, STREAM_USAGE, null);
        assertEquals("Der Würfel", read(WireApi.GEMINI_GENERATE, body, 1).text().toString());
    }

    @Test
    void jsonArrayStreamTakesTheLastElementsUsage() {
        readAll(WireApi.GEMINI_GENERATE, "[" + CHUNK_1 + "\r\n,\r\n" + CHUNK_2 + "\r\n]", STREAM_USAGE, null);
    }

    @Test
    void aStreamCutBeforeItsLastChunkSaysSo() {
        readAll(WireApi.GEMINI_GENERATE, "data: " + CHUNK_1 + "\r\n\r\n", new Usage(9L, 0L, null, null, null,
                "gemini-2.0-flash", "r1", List.of(), UsageSource.PROVIDER), "the stream ended before its final usage");
        readAll(WireApi.GEMINI_GENERATE, "[" + CHUNK_1 + "\r\n,\r\n", new Usage(9L, 0L, null, null, null,
                "gemini-2.0-flash", "r1", List.of(), UsageSource.PROVIDER), "the stream ended before its final usage");
    }

    @Test
    void toolUsePromptTokensAreInput() {
        String body = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"finishReason\":\"STOP\"}],"
                + "\"usageMetadata\":{\"promptTokenCount\":100,\"toolUsePromptTokenCount\":40,"
                + "\"candidatesTokenCount\":60,\"totalTokenCount\":200},\"modelVersion\":\"gemini-2.5-pro\"}";
        readAll(WireApi.GEMINI_GENERATE, body, new Usage(140L, 60L, null, null, null, "gemini-2.5-pro", null,
                List.of("STOP"), UsageSource.PROVIDER), null);
    }

    @Test
    void aTotalAboveThePartsCountsTheRestAsOutput() {
        String body = "{\"candidates\":[{\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":10,"
                + "\"candidatesTokenCount\":5,\"totalTokenCount\":22}}";
        // 22 - 10 = 12 output, of which 5 reported as candidates
        readAll(WireApi.GEMINI_GENERATE, body, new Usage(10L, 12L, null, null, null, null, null, List.of("STOP"),
                UsageSource.PROVIDER), null);
    }

    @Test
    void embeddingUsageMetadataOfEmbedAndBatchEmbedIsTheInput() {
        String one = "{\"embedding\":{\"values\":[0.013168523,-0.008711934]},\"usageMetadata\":"
                + "{\"promptTokenCount\":11,\"promptTokenDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":11}]}}";
        readAll(WireApi.GEMINI_EMBED, one, new Usage(11L, null, null, null, null, null, null, List.of(),
                UsageSource.PROVIDER), null);
        String batch = "{\"embeddings\":[{\"values\":[0.1,-0.2]},{\"values\":[0.3,0.4]}],\"usageMetadata\":"
                + "{\"promptTokenCount\":13,\"promptTokenDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":13}]}}";
        readAll(WireApi.GEMINI_EMBED, batch, new Usage(13L, null, null, null, null, null, null, List.of(),
                UsageSource.PROVIDER), null);
    }

    @Test
    void embedContentHasNoUsage() {
        String body = "{\"embedding\":{\"values\":[0.013168523,-0.008711934,-0.046782676]}}";
        assertEquals("the response carried no usage", read(WireApi.GEMINI_EMBED, body, 2).problem());
    }
}
