package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * Usage of Ollama's native API: {@code /api/chat} and {@code /api/generate} (one JSON document with
 * {@code "stream": false}, otherwise NDJSON whose final {@code "done": true} line carries the counts) and
 * {@code /api/embed}. {@code prompt_eval_count} is the input, {@code eval_count} the output. Ollama leaves
 * {@code prompt_eval_count} out when the whole prompt came from its cache; such a response has no input count to
 * charge and is estimated.
 */
final class OllamaWireUsage extends ResponseUsageReader {
    private final WireApi api;

    private Long input;
    private Long output;
    private boolean usageSeen;
    private boolean doneSeen;

    private Long msgInput;
    private Long msgOutput;
    private boolean msgCounts;
    private boolean msgDone;
    private String msgModel;
    private String msgReason;

    OllamaWireUsage(WireApi api, String requestModel) {
        super(requestModel);
        this.api = api;
    }

    @Override
    protected void messageStart() {
        msgInput = msgOutput = null;
        msgCounts = msgDone = false;
        msgModel = msgReason = null;
    }

    @Override
    protected void token(String path, JsonToken t, JsonParser p) throws IOException {
        switch (path) {
            case "prompt_eval_count" -> {
                msgCounts = true;
                msgInput = count(t, p);
            }
            case "eval_count" -> {
                msgCounts = true;
                msgOutput = count(t, p);
            }
            case "done" -> msgDone = t == JsonToken.VALUE_TRUE;
            case "done_reason" -> msgReason = string(t, p);
            case "model" -> msgModel = string(t, p);
            case "message.content", "message.thinking", "response", "thinking" -> appendText(string(t, p));
            default -> {
            }
        }
    }

    @Override
    protected void messageEnd() {
        if (msgModel != null) {
            model = msgModel;
        }
        if (msgReason != null) {
            finishReasons.clear();
            finishReasons.add(msgReason);
        }
        doneSeen |= msgDone;
        if (msgCounts || msgDone) {
            usageSeen = true;
            input = msgInput;
            output = msgOutput;
        }
    }

    @Override
    protected Long inputTokens() {
        return input;
    }

    @Override
    protected Long outputTokens() {
        return api.hasOutput() ? output : null;
    }

    @Override
    protected Long cacheReadTokens() {
        return null;
    }

    @Override
    protected Long cacheWriteTokens() {
        return null;
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
        return doneSeen || !api.hasOutput();
    }

    /** The {@code "done": true} object came: nothing but white space follows it. */
    @Override
    public boolean lastMessageSeen() {
        return doneSeen;
    }

    @Override
    protected boolean expectsOutput() {
        return api.hasOutput();
    }
}
