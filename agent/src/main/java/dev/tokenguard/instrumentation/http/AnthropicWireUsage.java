package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * Usage of Anthropic Messages responses: a JSON message, or a stream whose {@code message_start} carries the
 * message (input and cache counts, an early output count) and whose {@code message_delta} events carry cumulative
 * counts. A later count replaces an earlier one field by field and is never added to it. The input tokens, as the
 * GenAI conventions count them, are the uncached input plus the cache reads plus the cache writes.
 */
final class AnthropicWireUsage extends ResponseUsageReader {
    private Long input;
    private Long cacheRead;
    private Long cacheWrite;
    private Long output;
    private boolean usageSeen;
    private boolean finalSeen;

    private boolean msgUsage;
    private Long msgInput;
    private Long msgCacheRead;
    private Long msgCacheWrite;
    private Long msgOutput;
    private String msgType;
    private String msgModel;
    private String msgId;
    private String msgStop;

    AnthropicWireUsage(String requestModel) {
        super(requestModel);
    }

    @Override
    protected void messageStart() {
        msgUsage = false;
        msgInput = msgCacheRead = msgCacheWrite = msgOutput = null;
        msgType = msgModel = msgId = msgStop = null;
    }

    @Override
    protected void token(String path, JsonToken t, JsonParser p) throws IOException {
        if (path.equals("type")) {
            msgType = string(t, p);
            return;
        }
        if (path.startsWith("message.")) {
            path = path.substring("message.".length()); // message_start carries the message under "message"
        }
        switch (path) {
            case "usage" -> msgUsage |= t == JsonToken.START_OBJECT;
            case "usage.input_tokens" -> msgInput = count(t, p);
            case "usage.cache_read_input_tokens" -> msgCacheRead = count(t, p);
            case "usage.cache_creation_input_tokens" -> msgCacheWrite = count(t, p);
            case "usage.output_tokens" -> msgOutput = count(t, p);
            case "model" -> msgModel = string(t, p);
            case "id" -> msgId = string(t, p);
            case "stop_reason", "delta.stop_reason" -> msgStop = string(t, p);
            case "content[].text", "content[].thinking", "delta.text", "delta.thinking", "delta.partial_json" ->
                    appendText(string(t, p));
            default -> {
            }
        }
    }

    @Override
    protected void messageEnd() {
        adoptModelAndId(msgModel, msgId);
        if (msgStop != null) {
            finishReasons.clear();
            finishReasons.add(msgStop);
        }
        if (!msgUsage) {
            return;
        }
        usageSeen = true;
        // message_start (and a whole message) state every count; a message_delta may repeat only some of them
        if (msgInput != null) {
            input = msgInput;
        }
        if (msgCacheRead != null) {
            cacheRead = msgCacheRead;
        }
        if (msgCacheWrite != null) {
            cacheWrite = msgCacheWrite;
        }
        if (msgOutput != null) {
            output = msgOutput;
        }
        if (!"message_start".equals(msgType)) {
            finalSeen = true;
        }
    }

    @Override
    protected Long inputTokens() {
        if (input == null) {
            return null;
        }
        long r = cacheRead == null ? 0 : cacheRead;
        long w = cacheWrite == null ? 0 : cacheWrite;
        if (input < 0 || r < 0 || w < 0) {
            return Math.min(input, Math.min(r, w));
        }
        try {
            return Math.addExact(Math.addExact(input, r), w);
        } catch (ArithmeticException e) {
            return null;
        }
    }

    @Override
    protected String countsProblem() {
        return input != null && inputTokens() == null ? "counts that overflow when added" : null;
    }

    @Override
    protected Long outputTokens() {
        return output;
    }

    @Override
    protected Long cacheReadTokens() {
        return cacheRead;
    }

    @Override
    protected Long cacheWriteTokens() {
        return cacheWrite;
    }

    @Override
    protected Long reasoningTokens() {
        return null;
    }

    @Override
    protected boolean hasUsage() {
        return usageSeen;
    }

    @Override
    protected boolean complete() {
        return finalSeen;
    }

    @Override
    protected boolean expectsOutput() {
        return true;
    }
}
