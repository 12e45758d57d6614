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

    /** The chunks as the server sends them when not asked for usage: without the {@code "usage":null} member. */
    private static String app(String chunks) {
        return chunks.replace(",\"usage\":null", "");
    }

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
        // without include_usage the server sends no "usage" member at all
        String without = app(FIRST + LAST) + DONE;
        assertEquals(2, (FIRST + LAST).split(",\"usage\":null", -1).length - 1);
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

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aGatewaysOwnUsageChunkAfterTheAskedOneReachesTheApp(boolean crlf) {
        // a gateway that appends its usage to every stream: asked, it sends the upstream's usage chunk and its own
        String gateway = USAGE.replace("\"prompt_tokens\":9", "\"prompt_tokens\":10");
        String with = FIRST + LAST + USAGE + gateway + DONE;
        String without = app(FIRST + LAST) + gateway + DONE;
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
    void theAskedChunkIsHiddenWhenItsUsageIsMissingOrNullButAFirstChunkWithoutChoicesIsNot() {
        String filter = "data: {\"id\":\"\",\"choices\":[],\"prompt_filter_results\":[]}\n\n";
        int runs = 0;
        for (String usage : new String[] {"", ",\"usage\":null"}) {
            String asked = "data: " + CHUNK + "\"choices\":[]" + usage + "}\n\n";
            String with = filter + FIRST + LAST + asked + DONE;
            String without = filter + app(FIRST + LAST) + DONE;
            for (int piece : WireFeed.PIECES) {
                assertEquals(without, filtered(with, piece), "pieces of " + piece + ", usage '" + usage + "'");
                runs++;
            }
        }
        assertEquals(2 * WireFeed.PIECES.size(), runs);
    }

    @Test
    void aNullUsageMemberIsTakenOutWhereverItStandsAndNothingElseIs() {
        assertEquals("data: {\"id\":\"x\",\"choices\":[] }\n\n", new String(UsageChunkFilter.withoutNullUsage(
                "data: {\"id\":\"x\",\"choices\":[] , \"usage\" : null}\n\n".getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8));
        assertEquals("data: {\"id\":\"x\"}\n\n", new String(UsageChunkFilter.withoutNullUsage(
                "data: {\"usage\":null, \"id\":\"x\"}\n\n".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
        assertEquals("data: {}\n\n", new String(UsageChunkFilter.withoutNullUsage(
                "data: {\"usage\":null}\n\n".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
        for (String kept : new String[] {"data: {\"a\":{\"usage\":null}}\n\n", "data: {\"a\":\"\\\"usage\\\":null\"}\n\n",
                "data: {\"usage\":{\"prompt_tokens\":1}}\n\n", "data: [DONE]\n\n", "data: {\"usage\":null\n\n",
                "event: x\ndata: {\"usage\":null}\ndata: {}\n\n"}) {
            assertEquals(kept, new String(UsageChunkFilter.withoutNullUsage(kept.getBytes(StandardCharsets.UTF_8)),
                    StandardCharsets.UTF_8));
        }
    }

    @Test
    void crOnlyLineEndsAreKeptExactly() {
        String with = (FIRST + USAGE + DONE).replace("\n", "\r");
        assertEquals((app(FIRST) + DONE).replace("\n", "\r"), filtered(with, 1));
    }

    @Test
    void anEmptyChoicesChunkWithoutUsageIsTheApps() {
        // Azure OpenAI's first chunk: prompt filter results, no choices, usage null
        String azure = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
                + "\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{}}]}\n\n";
        String stream = azure + FIRST + LAST + USAGE + DONE;
        assertEquals(azure + app(FIRST + LAST) + DONE, filtered(stream, 3));
    }

    @Test
    void anUnterminatedLastEventIsPassedOnAtTheEnd() {
        assertEquals(app(FIRST) + "data: [DONE]", filtered(FIRST + USAGE + "data: [DONE]", 5));
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
