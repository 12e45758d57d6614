package dev.tokenguard.instrumentation.anthropic;

import com.anthropic.core.ObjectMappers;
import com.anthropic.models.beta.messages.BetaRawMessageStreamEvent;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.RawMessageStreamEvent;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Anthropic usage read from the real SDK's objects, made by the SDK's own JSON mapper from the wire
 * shapes of the Messages API.
 */
class AnthropicUsageTest {

    static <T> T read(String json, Class<T> type) throws Exception {
        return ObjectMappers.jsonMapper().readValue(json, type);
    }

    static final String MESSAGE = """
            {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
             "content":[{"type":"text","text":"Printer jams."},{"type":"text","text":" Replace roller."}],
             "stop_reason":"end_turn","stop_sequence":null,
             "usage":{"input_tokens":12,"cache_creation_input_tokens":30,"cache_read_input_tokens":200,"output_tokens":7}}
            """;

    @Test
    void aMessagesInputIsItsUncachedInputPlusCacheReadsPlusCacheWrites() throws Exception {
        Message message = read(MESSAGE, Message.class);
        Usage usage = AnthropicUsage.ofMessage(message);
        assertEquals(12 + 200 + 30, usage.inputTokens());
        assertEquals(7, usage.outputTokens());
        assertEquals(200, usage.cacheReadTokens());
        assertEquals(30, usage.cacheWriteTokens());
        assertEquals("claude-sonnet-4-5-20250929", usage.responseModel());
        assertEquals("msg_01", usage.responseId());
        assertEquals(List.of("end_turn"), usage.finishReasons());
        assertEquals(UsageSource.PROVIDER, usage.source());
        assertEquals("Printer jams. Replace roller.", AnthropicUsage.messageText(message));
    }

    static final List<String> STREAM = List.of(
            """
            {"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-haiku-4-5",
             "content":[],"stop_reason":null,"stop_sequence":null,
             "usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":1}}}""",
            """
            {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
            """
            {"type":"ping"}""",
            """
            {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}""",
            """
            {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}""",
            """
            {"type":"content_block_stop","index":0}""",
            """
            {"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},"usage":{"output_tokens":9}}""",
            """
            {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":15}}""",
            """
            {"type":"message_stop"}""");

    @Test
    void aStreamsUsageIsTheStartUsageWithTheLastDeltaOverItNeverASum() throws Exception {
        AnthropicMessages.MessageStream stream = new AnthropicMessages.MessageStream();
        for (String event : STREAM) {
            assertTrue(stream.onElement(read(event, RawMessageStreamEvent.class)), "every event stays visible");
        }
        Usage usage = stream.finalUsage();
        assertEquals(125, usage.inputTokens());
        assertEquals(15, usage.outputTokens(), "the last cumulative output count, not 1 + 9 + 15");
        assertEquals(100, usage.cacheReadTokens());
        assertEquals(0, usage.cacheWriteTokens());
        assertEquals(List.of("max_tokens"), usage.finishReasons());
        assertEquals("claude-haiku-4-5", usage.responseModel());
        assertEquals("Hello world", stream.text().toString());
    }

    @Test
    void theBetaStreamReadsTheSameWay() throws Exception {
        AnthropicMessages.MessageStream stream = new AnthropicMessages.MessageStream();
        for (String event : STREAM) {
            stream.onElement(read(event, BetaRawMessageStreamEvent.class));
        }
        assertEquals(125, stream.finalUsage().inputTokens());
        assertEquals(15, stream.finalUsage().outputTokens());
    }

    @Test
    void aStreamCutBeforeItsDeltaHasOnlyTheStartUsageAsPartial() throws Exception {
        AnthropicMessages.MessageStream stream = new AnthropicMessages.MessageStream();
        for (String event : STREAM.subList(0, 4)) {
            stream.onElement(read(event, RawMessageStreamEvent.class));
        }
        assertNull(stream.finalUsage());
        assertEquals(125, stream.partialUsage().inputTokens());
        assertEquals("Hello", stream.text().toString());
    }

    @Test
    void aMessageWithoutUsageOrWithRenamedFieldsIsUnreadable() throws Exception {
        Message noUsage = read(MESSAGE.replaceAll(",\\s*\"usage\":\\{[^}]*}", ""), Message.class);
        assertEquals("no input token count", AnthropicUsage.ofMessage(noUsage).problem(true));
        Message renamed = read(MESSAGE.replace("\"input_tokens\"", "\"in_tokens\"")
                .replace("\"output_tokens\"", "\"out_tokens\""), Message.class);
        assertEquals("no input token count", AnthropicUsage.ofMessage(renamed).problem(true));
        Message negative = read(MESSAGE.replace("\"output_tokens\":7", "\"output_tokens\":-7"), Message.class);
        assertEquals("a negative count (-7)", AnthropicUsage.ofMessage(negative).problem(true));
    }
}
