package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.List;

/**
 * Usage of OpenAI-format responses: chat completions and legacy completions (JSON, or a stream whose usage is in
 * its last chunk), the Responses API (JSON, or a stream whose {@code response.completed} / {@code .incomplete} /
 * {@code .failed} event carries the final response) and embeddings. The prompt tokens already include the cached
 * ones. Also understood: DeepSeek's {@code prompt_cache_hit_tokens} and Groq's {@code x_groq.usage} (where Groq
 * reports a stream's usage).
 */
final class OpenAiWireUsage extends ResponseUsageReader {
    private final WireApi api;

    private Long input;
    private Long output;
    private Long cached;
    private Long reasoning;
    private boolean usageSeen;
    /** A chunk without choices came after a finish reason: a usage chunk whose usage is left out or null. */
    private boolean trailingChunkSeen;

    private boolean msgUsage;
    private Long msgInput;
    private Long msgOutput;
    private Long msgCached;
    private Long msgCacheHit;
    private Long msgReasoning;
    private String msgModel;
    private String msgId;
    private String msgStatus;
    private String msgType;
    private String msgDelta;
    private boolean msgChoicesArray;
    private boolean msgChoice;

    OpenAiWireUsage(WireApi api, String requestModel) {
        super(requestModel);
        this.api = api;
    }

    @Override
    protected void messageStart() {
        msgUsage = false;
        msgInput = msgOutput = msgCached = msgCacheHit = msgReasoning = null;
        msgModel = msgId = msgStatus = msgType = msgDelta = null;
        msgChoicesArray = msgChoice = false;
    }

    @Override
    protected void token(String path, JsonToken t, JsonParser p) throws IOException {
        if (api == WireApi.OPENAI_RESPONSES && path.startsWith("response.")) {
            path = path.substring("response.".length());
        }
        if (path.startsWith("x_groq.usage")) {
            path = path.substring("x_groq.".length());
        }
        if (path.startsWith("choices[]")) {
            msgChoice = true;
        }
        switch (path) {
            case "choices" -> msgChoicesArray |= t == JsonToken.START_ARRAY;
            case "usage" -> msgUsage |= t == JsonToken.START_OBJECT;
            case "usage.prompt_tokens", "usage.input_tokens" -> msgInput = count(t, p);
            case "usage.completion_tokens", "usage.output_tokens" -> msgOutput = count(t, p);
            case "usage.prompt_tokens_details.cached_tokens", "usage.input_tokens_details.cached_tokens" ->
                    msgCached = count(t, p);
            case "usage.prompt_cache_hit_tokens" -> msgCacheHit = count(t, p);
            case "usage.completion_tokens_details.reasoning_tokens", "usage.output_tokens_details.reasoning_tokens" ->
                    msgReasoning = count(t, p);
            case "model" -> msgModel = string(t, p);
            case "id" -> msgId = string(t, p);
            case "status" -> msgStatus = string(t, p);
            case "type" -> msgType = string(t, p);
            case "delta" -> msgDelta = string(t, p);
            case "choices[].finish_reason" -> {
                String reason = string(t, p);
                if (reason != null) {
                    finishReasons.add(reason);
                }
            }
            case "choices[].delta.content", "choices[].message.content", "choices[].text",
                    "choices[].delta.reasoning_content", "choices[].message.reasoning_content",
                    "choices[].delta.refusal", "choices[].message.refusal",
                    "choices[].delta.tool_calls[].function.arguments",
                    "choices[].message.tool_calls[].function.arguments" -> appendText(string(t, p));
            case "output[].content[].text", "output[].arguments", "output[].summary[].text" -> {
                if (!streamedEvents()) {
                    appendText(string(t, p));
                }
            }
            default -> {
            }
        }
    }

    @Override
    protected void messageEnd() {
        adoptModelAndId(msgModel, msgId);
        if (msgType != null && msgDelta != null && isTextDelta(msgType)) {
            appendText(msgDelta);
        }
        if (msgChoicesArray && !msgChoice && !finishReasons.isEmpty()) {
            trailingChunkSeen = true;
        }
        if (!msgUsage) {
            return;
        }
        usageSeen = true;
        input = msgInput;
        output = msgOutput;
        cached = msgCached != null ? msgCached : msgCacheHit;
        reasoning = msgReasoning;
        if (api == WireApi.OPENAI_RESPONSES && msgStatus != null) {
            finishReasons.clear();
            finishReasons.addAll(List.of(msgStatus));
        }
    }

    private static boolean isTextDelta(String type) {
        return switch (type) {
            case "response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta",
                    "response.reasoning_summary_text.delta", "response.reasoning_text.delta" -> true;
            default -> false;
        };
    }

    @Override
    protected Long inputTokens() {
        return input;
    }

    @Override
    protected Long outputTokens() {
        return output;
    }

    @Override
    protected Long cacheReadTokens() {
        return cached;
    }

    @Override
    protected Long cacheWriteTokens() {
        return null;
    }

    @Override
    protected Long reasoningTokens() {
        return reasoning;
    }

    @Override
    public boolean usageReported() {
        return usageSeen || trailingChunkSeen;
    }

    @Override
    protected boolean hasUsage() {
        return usageSeen;
    }

    @Override
    protected boolean complete() {
        return usageSeen;
    }

    @Override
    protected boolean expectsOutput() {
        return api.hasOutput();
    }
}
