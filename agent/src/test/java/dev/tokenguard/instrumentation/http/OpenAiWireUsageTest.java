package dev.tokenguard.instrumentation.http;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.tokenguard.instrumentation.http.WireFeed.read;
import static dev.tokenguard.instrumentation.http.WireFeed.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenAiWireUsageTest {

    static final String CHAT_JSON = """
            {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,\
            "model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant",\
            "content":"A wooden boardwalk — 世界 🙂","refusal":null,"annotations":[]},"logprobs":null,\
            "finish_reason":"stop"}],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,\
            "prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":\
            {"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},\
            "service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}
            """;

    static final String CHUNK = "{\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
            + "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_44709d6fcb\",";

    /** A chat stream as OpenAI sends it when the request has stream_options.include_usage. */
    static final String CHAT_SSE = "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
            + "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
            + "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Héllo 世界\"},\"logprobs\":null,"
            + "\"finish_reason\":null}],\"usage\":null}\n\n"
            + "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + "\"usage\":null}\n\n"
            + "data: " + CHUNK + "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,"
            + "\"total_tokens\":21,\"prompt_tokens_details\":{\"cached_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n"
            + "data: [DONE]\n\n";

    @Test
    void chatCompletion() {
        readAll(WireApi.OPENAI_CHAT, CHAT_JSON, new Usage(1117L, 46L, 1024L, null, 0L, "gpt-4o-2024-08-06",
                "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", List.of("stop"), UsageSource.PROVIDER), null);
        assertEquals("A wooden boardwalk — 世界 🙂", read(WireApi.OPENAI_CHAT, CHAT_JSON, 1).text().toString());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void chatStreamTakesTheUsageOfItsLastChunk(boolean crlf) {
        String body = crlf ? WireFeed.crlf(CHAT_SSE) : CHAT_SSE;
        readAll(WireApi.OPENAI_CHAT, body, new Usage(9L, 12L, 0L, null, 0L, "gpt-4o-mini-2024-07-18",
                "chatcmpl-123", List.of("stop"), UsageSource.PROVIDER), null);
        ResponseUsageReader r = read(WireApi.OPENAI_CHAT, body, 1);
        assertTrue(r.eventStream());
        assertEquals("Héllo 世界", r.text().toString());
    }

    @Test
    void chatStreamWithoutItsUsageChunkIsUnreadableAndKeepsItsText() {
        String cut = CHAT_SSE.substring(0, CHAT_SSE.indexOf("data: " + CHUNK + "\"choices\":[],"));
        ResponseUsageReader r = read(WireApi.OPENAI_CHAT, cut, 3);
        assertEquals("the response carried no usage", r.problem());
        assertEquals("Héllo 世界", r.text().toString());
        assertTrue(r.estimatedOutputTokens() > 0);
    }

    @Test
    void groqReportsAStreamsUsageUnderXGroq() {
        String body = "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"model\":\"llama-3.3-70b-versatile\","
                + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"x_groq\":{\"id\":\"req_01\","
                + "\"usage\":{\"queue_time\":0.02,\"prompt_tokens\":48,\"prompt_time\":0.003,\"completion_tokens\":120,"
                + "\"completion_time\":0.1,\"total_tokens\":168,\"total_time\":0.103}}}\n\ndata: [DONE]\n\n";
        readAll(WireApi.OPENAI_CHAT, body, new Usage(48L, 120L, null, null, null, "llama-3.3-70b-versatile",
                "chatcmpl-9", List.of("stop"), UsageSource.PROVIDER), null);
    }

    @Test
    void deepSeekCacheHitsAreCacheReads() {
        String body = "{\"id\":\"930c60df\",\"object\":\"chat.completion\",\"model\":\"deepseek-chat\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":"
                + "{\"prompt_tokens\":16,\"completion_tokens\":10,\"total_tokens\":26,\"prompt_cache_hit_tokens\":12,"
                + "\"prompt_cache_miss_tokens\":4}}";
        readAll(WireApi.OPENAI_CHAT, body, new Usage(16L, 10L, 12L, null, null, "deepseek-chat", "930c60df",
                List.of("stop"), UsageSource.PROVIDER), null);
    }

    static final String RESPONSES_SSE = """
            event: response.created
            data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9","object":"response",\
            "created_at":1741290958,"status":"in_progress","model":"gpt-4.1-2025-04-14","output":[],"usage":null}}

            event: response.output_text.delta
            data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c9","output_index":0,\
            "content_index":0,"delta":"Hi 👋"}

            event: response.output_text.done
            data: {"type":"response.output_text.done","sequence_number":5,"item_id":"msg_67c9","output_index":0,\
            "content_index":0,"text":"Hi 👋"}

            event: response.completed
            data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_67c9","object":"response",\
            "created_at":1741290958,"status":"completed","model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9",\
            "type":"message","status":"completed","role":"assistant","content":[{"type":"output_text",\
            "text":"Hi 👋","annotations":[]}]}],"usage":{"input_tokens":37,"input_tokens_details":\
            {"cached_tokens":0},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48}}}

            """;

    @Test
    void responsesStreamTakesTheCompletedResponse() {
        readAll(WireApi.OPENAI_RESPONSES, RESPONSES_SSE, new Usage(37L, 11L, 0L, null, 0L, "gpt-4.1-2025-04-14",
                "resp_67c9", List.of("completed"), UsageSource.PROVIDER), null);
        assertEquals("Hi 👋", read(WireApi.OPENAI_RESPONSES, RESPONSES_SSE, 2).text().toString());
    }

    @Test
    void responsesJson() {
        String body = """
                {
                  "id": "resp_68a1",
                  "object": "response",
                  "status": "incomplete",
                  "model": "o4-mini-2025-04-16",
                  "output": [
                    {"id": "rs_1", "type": "reasoning", "summary": []},
                    {"id": "msg_1", "type": "message", "role": "assistant",
                     "content": [{"type": "output_text", "text": "Ça marche", "annotations": []}]}
                  ],
                  "usage": {
                    "input_tokens": 328,
                    "input_tokens_details": {"cached_tokens": 256},
                    "output_tokens": 52,
                    "output_tokens_details": {"reasoning_tokens": 38},
                    "total_tokens": 380
                  }
                }
                """;
        readAll(WireApi.OPENAI_RESPONSES, body, new Usage(328L, 52L, 256L, null, 38L, "o4-mini-2025-04-16",
                "resp_68a1", List.of("incomplete"), UsageSource.PROVIDER), null);
        assertEquals("Ça marche", read(WireApi.OPENAI_RESPONSES, body, 5).text().toString());
    }

    @Test
    void embeddingsHaveInputOnly() {
        String body = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.0023064255,"
                + "-0.009327292,-0.0028842222]},{\"object\":\"embedding\",\"index\":1,\"embedding\":[1e-3,2.5E-2,-0.75]}],"
                + "\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}";
        readAll(WireApi.OPENAI_EMBEDDINGS, body, new Usage(8L, null, null, null, null, "text-embedding-3-small",
                null, List.of(), UsageSource.PROVIDER), null);
    }

    @Test
    void aLargeEmbeddingsBodyIsReadWithoutHoldingIt() {
        StringBuilder body = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < 2048; i++) {
            body.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":[");
            for (int j = 0; j < 256; j++) {
                body.append(j == 0 ? "" : ",").append("-0.0123456789");
            }
            body.append("]}");
        }
        body.append("],\"model\":\"text-embedding-3-large\",\"usage\":{\"prompt_tokens\":70000,\"total_tokens\":70000}}");
        assertTrue(body.length() > 4 * 1024 * 1024, "bigger than any buffer a reader could keep");
        ResponseUsageReader r = read(WireApi.OPENAI_EMBEDDINGS, body.toString(), 8192);
        assertNull(r.problem());
        assertEquals(70000L, r.usage().inputTokens());
    }

    @Test
    void unreadableUsageIsReportedWithItsReason() {
        String head = "{\"id\":\"c1\",\"model\":\"gpt-4o\",\"choices\":[{\"message\":{\"content\":\"hi\"},"
                + "\"finish_reason\":\"stop\"}]";
        assertProblem("the response carried no usage", head + "}");
        assertProblem("no input token count", head + ",\"usage\":{\"input_tok\":5,\"output_tok\":3}}");
        assertProblem("no output token count", head + ",\"usage\":{\"prompt_tokens\":5}}");
        assertProblem("a negative count (-5)", head + ",\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":3}}");
        assertProblem("a count too large for a token count (20 digits)",
                head + ",\"usage\":{\"prompt_tokens\":99999999999999999999,\"completion_tokens\":3}}");
        assertProblem("counts that overflow when added",
                head + ",\"usage\":{\"prompt_tokens\":9223372036854775807,\"completion_tokens\":1}}");
        assertProblem("a count that is not a whole number", head + ",\"usage\":{\"prompt_tokens\":12.5,\"completion_tokens\":3}}");
        assertProblem("a count that is not a number", head + ",\"usage\":{\"prompt_tokens\":\"12\",\"completion_tokens\":3}}");
        assertProblem("the response carried no usage",
                "{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":\"invalid_request_error\"}}");
        assertProblem("the response body was empty", " \r\n");
        assertProblem("the event stream carried no JSON event", "<html><body>502 Bad Gateway</body></html>");
        assertProblem("the response body is not JSON", "{\"id\":\"c1\",,}");
        assertProblem("the response body ended before its JSON did", head + ",\"usage\":{\"prompt_tokens\":5");
    }

    private static void assertProblem(String expected, String body) {
        int runs = 0;
        for (int piece : WireFeed.PIECES) {
            assertEquals(expected, read(WireApi.OPENAI_CHAT, body, piece).problem(), body + " in pieces of " + piece);
            runs++;
        }
        assertEquals(WireFeed.PIECES.size(), runs);
    }

    @Test
    void keptTextIsBoundedAndTheRestIsEstimatedInSlices() {
        StringBuilder sse = new StringBuilder();
        String piece = "lorem ipsum dolor sit amet ".repeat(40);
        int events = 100;
        for (int i = 0; i < events; i++) {
            sse.append("data: ").append(CHUNK).append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"")
                    .append(piece).append("\"}}]}\n\n");
        }
        ResponseUsageReader r = read(WireApi.OPENAI_CHAT, sse.toString(), 4096);
        assertEquals("the response carried no usage", r.problem());
        assertTrue(piece.length() * events > ResponseUsageReader.MAX_TEXT);
        assertTrue(r.text().length() <= ResponseUsageReader.MAX_TEXT, "kept " + r.text().length());
        // 27 characters of five common English words: between 2 and 10 tokens whatever the encoding
        long perPiece = 40L * 5;
        assertTrue(r.estimatedOutputTokens() >= perPiece * events / 2 && r.estimatedOutputTokens() <= perPiece * events * 2,
                "estimate " + r.estimatedOutputTokens());
    }
}
