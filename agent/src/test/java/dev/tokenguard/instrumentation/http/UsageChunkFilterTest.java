package dev.tokenguard.instrumentation.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UsageChunkFilterTest {
    private static final String CHUNK = OpenAiWireUsageTest.CHUNK;
    private static final String FIRST = "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Héllo 世界\"},"
            + "\"finish_reason\":null}],\"usage\":null}\n\n";
    private static final String LAST = "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
            + "\"usage\":null}\n\n";
    private static final String USAGE = "data: " + CHUNK + "\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
            + "\"completion_tokens\":12,\"total_tokens\":21}}\n\n";
    private static final String DONE = "data: [DONE]\n\n";
    // the same chunks as a server sends them when nobody asked for usage: no "usage" member at all
    private static final String FIRST_BARE = "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"content\":"
            + "\"Héllo 世界\"},\"finish_reason\":null}]}\n\n";
    private static final String LAST_BARE = "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{},"
            + "\"finish_reason\":\"stop\"}]}\n\n";

    private static String filtered(String stream, int piece) {
        UsageChunkFilter filter = new UsageChunkFilter();
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream app = new ByteArrayOutputStream();
        for (int i = 0; i < bytes.length; i += piece) {
            app.writeBytes(filter.filter(bytes, i, Math.min(piece, bytes.length - i)));
        }
        app.writeBytes(filter.finish());
        return app.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theAppReadsTheStreamWithoutTheUsageChunk(boolean crlf) {
        String with = FIRST + LAST + USAGE + DONE;
        String without = FIRST_BARE + LAST_BARE + DONE;
        if (crlf) {
            with = WireFeed.crlf(with);
            without = WireFeed.crlf(without);
        }
        int runs = 0;
        for (int piece : WireFeed.PIECES) {
            assertEquals(without, filtered(with, piece), "pieces of " + piece);
            runs++;
        }
        assertEquals(WireFeed.PIECES.size(), runs);
    }

    @Test
    void crOnlyLineEndsAreKeptExactly() {
        String with = (FIRST + USAGE + DONE).replace("\n", "\r");
        assertEquals((FIRST_BARE + DONE).replace("\n", "\r"), filtered(with, 1));
    }

    @Test
    void anEmptyChoicesChunkWithoutUsageIsTheApps() {
        // Azure OpenAI's first chunk: prompt filter results, no choices, usage null
        String azure = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
                + "\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n";
        String stream = azure + FIRST + LAST + USAGE + DONE;
        assertEquals(azure + FIRST_BARE + LAST_BARE + DONE, filtered(stream, 3));
    }

    @Test
    void anUnterminatedLastEventIsPassedOnAtTheEnd() {
        assertEquals(FIRST_BARE + "data: [DONE]", filtered(FIRST + USAGE + "data: [DONE]", 5));
    }

    @Test
    void theNullUsageMemberIsRemovedWhereverItStandsAndOnlyAtTheTopLevel() {
        assertEquals("data: {\"id\":\"c\",\"choices\":[]}\n\n",
                filtered("data: {\"usage\": null, \"id\":\"c\",\"choices\":[]}\n\n", 4));
        assertEquals("data: {\"id\":\"c\"}\n\n", filtered("data: {\"id\":\"c\" , \"usage\":null}\n\n", 7));
        String nested = "data: {\"id\":\"c\",\"x\":{\"usage\":null}}\n\n";
        assertEquals(nested, filtered(nested, 2));
        String twoLines = "data: {\"id\":\"c\",\ndata: \"usage\":null}\n\n";
        assertEquals(twoLines, filtered(twoLines, 3));
    }

    @Test
    void usageOnlyChunkRecognition() {
        assertTrue(UsageChunkFilter.isUsageOnlyChunk(UsageChunkFilter.dataOf(USAGE.getBytes(StandardCharsets.UTF_8))));
        assertFalse(UsageChunkFilter.isUsageOnlyChunk(UsageChunkFilter.dataOf(LAST.getBytes(StandardCharsets.UTF_8))));
        assertFalse(UsageChunkFilter.isUsageOnlyChunk(UsageChunkFilter.dataOf(DONE.getBytes(StandardCharsets.UTF_8))));
        assertFalse(UsageChunkFilter.isUsageOnlyChunk("{\"choices\":[],\"usage\":null}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(UsageChunkFilter.isUsageOnlyChunk("{\"usage\":{\"prompt_tokens\":1},\"choices\":[]}"
                .getBytes(StandardCharsets.UTF_8)));
    }
}
