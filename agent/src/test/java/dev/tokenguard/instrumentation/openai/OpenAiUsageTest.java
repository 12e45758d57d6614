package dev.tokenguard.instrumentation.openai;

import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import dev.tokenguard.core.Usage;
import dev.tokenguard.instrumentation.stainless.StreamAccumulator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OpenAI usage read from the real SDK's objects, made by the SDK's own JSON mapper from wire shapes. */
class OpenAiUsageTest {
    static final String COMPLETION = """
            {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Done.","refusal":null},
                         "logprobs":null,"finish_reason":"stop"}],
             "usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52,
                      "prompt_tokens_details":{"cached_tokens":32},"completion_tokens_details":{"reasoning_tokens":5}}}
            """;

    static ChatCompletion completion(String json) throws Exception {
        return ObjectMappers.jsonMapper().readValue(json, ChatCompletion.class);
    }

    @Test
    void aCompletionsUsageIsReadWithCachedAndReasoningTokens() throws Exception {
        Usage usage = OpenAiApis.CHAT.usage(completion(COMPLETION));
        assertEquals(40, usage.inputTokens());
        assertEquals(12, usage.outputTokens());
        assertEquals(32, usage.cacheReadTokens());
        assertEquals(5, usage.reasoningTokens());
        assertEquals(List.of("stop"), usage.finishReasons());
        assertNull(usage.problem(true));
    }

    @Test
    void aCompletionWithoutUsageNullUsageOrRenamedFieldsIsUnreadable() throws Exception {
        String absent = COMPLETION.substring(0, COMPLETION.indexOf(",\n \"usage\"")) + "}";
        assertEquals("no input token count", OpenAiApis.CHAT.usage(completion(absent)).problem(true));
        String nulled = absent.substring(0, absent.length() - 1) + ",\"usage\":null}";
        assertEquals("no input token count", OpenAiApis.CHAT.usage(completion(nulled)).problem(true));
        String renamed = COMPLETION.replace("\"prompt_tokens\"", "\"input_tokens\"")
                .replace("\"completion_tokens\"", "\"output_tokens\"");
        assertEquals("no input token count", OpenAiApis.CHAT.usage(completion(renamed)).problem(true));
        String negative = COMPLETION.replace("\"completion_tokens\":12", "\"completion_tokens\":-12");
        assertEquals("a negative count (-12)", OpenAiApis.CHAT.usage(completion(negative)).problem(true));
        String huge = COMPLETION.replace("\"prompt_tokens\":40", "\"prompt_tokens\":9223372036854775807");
        assertEquals("counts that overflow when added", OpenAiApis.CHAT.usage(completion(huge)).problem(true));
        String text = COMPLETION.replace("\"completion_tokens\":12", "\"completion_tokens\":\"twelve\"");
        assertFalse(OpenAiApis.CHAT.usage(completion(text)).problem(true) == null, "a non-numeric count");
    }

    @Test
    void theUsageOnlyChunkIsHiddenOnlyWhenTheAgentAskedForIt() throws Exception {
        String content = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",
                 "choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""";
        String last = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],
                 "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}""";
        for (boolean agentAsked : new boolean[] {true, false}) {
            StreamAccumulator stream = OpenAiApis.CHAT.newStream(agentAsked);
            assertTrue(stream.onElement(ObjectMappers.jsonMapper().readValue(content, ChatCompletionChunk.class)));
            assertEquals(!agentAsked, stream.onElement(ObjectMappers.jsonMapper().readValue(last,
                    ChatCompletionChunk.class)));
            assertEquals(9, stream.finalUsage().inputTokens());
            assertEquals(3, stream.finalUsage().outputTokens());
            assertEquals("Hi", stream.text().toString());
        }
    }

    @Test
    void aGatewaysOwnUsageChunkAfterTheAskedOneReachesTheApp() throws Exception {
        String content = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",
                 "choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""";
        String asked = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],
                 "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}""";
        String gateways = asked.replace("\"prompt_tokens\":9", "\"prompt_tokens\":10");
        StreamAccumulator stream = OpenAiApis.CHAT.newStream(true);
        assertTrue(stream.onElement(ObjectMappers.jsonMapper().readValue(content, ChatCompletionChunk.class)));
        assertFalse(stream.onElement(ObjectMappers.jsonMapper().readValue(asked, ChatCompletionChunk.class)),
                "the chunk the agent's asking added");
        assertTrue(stream.onElement(ObjectMappers.jsonMapper().readValue(gateways, ChatCompletionChunk.class)),
                "the gateway's own chunk, which the app sees without the agent too");
        assertEquals(10, stream.finalUsage().inputTokens());
        assertEquals(3, stream.finalUsage().outputTokens());
    }

    @Test
    void theAskedChunkIsHiddenEvenWhenItsUsageIsMissingOrNullButAnEarlyChunkWithoutChoicesIsNot() throws Exception {
        String filter = """
                {"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[]}""";
        String content = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",
                 "choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}""";
        String last = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",
                 "choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""";
        String missing = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[]}""";
        String nulled = """
                {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":null}""";
        int runs = 0;
        for (String usageChunk : List.of(missing, nulled)) {
            StreamAccumulator stream = OpenAiApis.CHAT.newStream(true);
            assertTrue(stream.onElement(ObjectMappers.jsonMapper().readValue(filter, ChatCompletionChunk.class)),
                    "a chunk without choices before any finish reason is the server's own");
            assertTrue(stream.onElement(ObjectMappers.jsonMapper().readValue(content, ChatCompletionChunk.class)));
            assertTrue(stream.onElement(ObjectMappers.jsonMapper().readValue(last, ChatCompletionChunk.class)));
            assertFalse(stream.onElement(ObjectMappers.jsonMapper().readValue(usageChunk, ChatCompletionChunk.class)),
                    usageChunk);
            assertNull(stream.finalUsage());
            runs++;
        }
        assertEquals(2, runs);
    }
}
