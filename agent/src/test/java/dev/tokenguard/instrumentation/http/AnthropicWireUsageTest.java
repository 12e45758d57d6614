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

class AnthropicWireUsageTest {

    @Test
    void messageInputIsUncachedPlusCacheReadsPlusCacheWrites() {
        String body = """
                {"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant",\
                "model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"Bonjour — ça va? 日本"}],\
                "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2095,\
                "cache_creation_input_tokens":1200,"cache_read_input_tokens":300,"output_tokens":503,\
                "service_tier":"standard"}}""";
        // 2095 + 300 + 1200 = 3595
        readAll(WireApi.ANTHROPIC_MESSAGES, body, new Usage(3595L, 503L, 300L, 1200L, null, "claude-sonnet-4-20250514",
                "msg_01XFDUDYJgAACzvnptvVoYEL", List.of("end_turn"), UsageSource.PROVIDER), null);
        assertEquals("Bonjour — ça va? 日本", read(WireApi.ANTHROPIC_MESSAGES, body, 1).text().toString());
    }

    static final String STREAM = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message",\
            "role":"assistant","content":[],"model":"claude-sonnet-4-20250514","stop_reason":null,\
            "stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,\
            "cache_read_input_tokens":2000,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: ping
            data: {"type": "ping"}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello 世界"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},"usage":{"output_tokens":7}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},\
            "usage":{"output_tokens":15}}

            event: message_stop
            data: {"type":"message_stop"}

            """;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void streamTakesTheLastDeltaOverTheStartNeverASum(boolean crlf) {
        String body = crlf ? WireFeed.crlf(STREAM) : STREAM;
        // input 25 + 2000 + 0; output the last cumulative count, 15 (not 1 + 7 + 15)
        readAll(WireApi.ANTHROPIC_MESSAGES, body, new Usage(2025L, 15L, 2000L, 0L, null, "claude-sonnet-4-20250514",
                "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", List.of("end_turn"), UsageSource.PROVIDER), null);
        assertEquals("Hello 世界", read(WireApi.ANTHROPIC_MESSAGES, body, 1).text().toString());
    }

    @Test
    void aDeltaThatRestatesTheInputReplacesIt() {
        String body = STREAM.replace("\"usage\":{\"output_tokens\":15}",
                "\"usage\":{\"input_tokens\":30,\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":2000,"
                        + "\"output_tokens\":15}");
        // 30 + 2000 + 10
        readAll(WireApi.ANTHROPIC_MESSAGES, body, new Usage(2040L, 15L, 2000L, 10L, null, "claude-sonnet-4-20250514",
                "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", List.of("end_turn"), UsageSource.PROVIDER), null);
    }

    @Test
    void aStreamCutBeforeItsDeltaReportsTheStartAndSaysSo() {
        String cut = STREAM.substring(0, STREAM.indexOf("event: content_block_stop"));
        readAll(WireApi.ANTHROPIC_MESSAGES, cut, new Usage(2025L, 1L, 2000L, 0L, null, "claude-sonnet-4-20250514",
                        "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", List.of(), UsageSource.PROVIDER),
                "the stream ended before its final usage");
    }

    @Test
    void anErrorEventCarriesNoUsage() {
        String body = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                + "\"message\":\"Overloaded\"}}\n\n";
        assertEquals("the response carried no usage", read(WireApi.ANTHROPIC_MESSAGES, body, 4).problem());
    }

    @Test
    void inputPartsThatOverflowAreReported() {
        String body = "{\"id\":\"m\",\"type\":\"message\",\"model\":\"claude\",\"content\":[],\"stop_reason\":\"end_turn\","
                + "\"usage\":{\"input_tokens\":9223372036854775807,\"cache_read_input_tokens\":1,\"output_tokens\":2}}";
        assertEquals("counts that overflow when added", read(WireApi.ANTHROPIC_MESSAGES, body, 3).problem());
    }
}
