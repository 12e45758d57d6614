package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * Usage of Gemini API responses ({@code GenerateContentResponse}): one JSON document, a JSON array stream, or an
 * event stream ({@code alt=sse}). Each streamed chunk's {@code usageMetadata} holds the totals so far, so the last
 * one is the call's. {@code promptTokenCount} already includes {@code cachedContentTokenCount}; tokens of tool-use
 * prompts ({@code toolUsePromptTokenCount}) are input too. The output is the candidates' tokens plus the thinking
 * tokens ({@code thoughtsTokenCount}, also reported as reasoning). Gemini leaves out a count that is zero, so a
 * missing output count in a usage that has the prompt count is zero; when {@code totalTokenCount} says more than
 * the parts add up to, the difference is output (a count of a kind this reader does not know yet).
 */
final class GeminiWireUsage extends ResponseUsageReader {
    private final WireApi api;

    private Long prompt;
    private Long toolUse;
    private Long cached;
    private Long candidates;
    private Long thoughts;
    private Long total;
    private boolean usageSeen;
    private boolean finishSeen;
    private boolean lastUsageFinished;

    private boolean msgUsage;
    private Long msgPrompt;
    private Long msgToolUse;
    private Long msgCached;
    private Long msgCandidates;
    private Long msgThoughts;
    private Long msgTotal;
    private String msgModel;
    private String msgId;
    private boolean msgFinish;

    GeminiWireUsage(WireApi api, String requestModel) {
        super(requestModel);
        this.api = api;
    }

    @Override
    protected void messageStart() {
        msgUsage = msgFinish = false;
        msgPrompt = msgToolUse = msgCached = msgCandidates = msgThoughts = msgTotal = null;
        msgModel = msgId = null;
    }

    @Override
    protected void token(String path, JsonToken t, JsonParser p) throws IOException {
        switch (path) {
            case "usageMetadata" -> msgUsage |= t == JsonToken.START_OBJECT;
            case "usageMetadata.promptTokenCount" -> msgPrompt = count(t, p);
            case "usageMetadata.toolUsePromptTokenCount" -> msgToolUse = count(t, p);
            case "usageMetadata.cachedContentTokenCount" -> msgCached = count(t, p);
            case "usageMetadata.candidatesTokenCount" -> msgCandidates = count(t, p);
            case "usageMetadata.thoughtsTokenCount" -> msgThoughts = count(t, p);
            case "usageMetadata.totalTokenCount" -> msgTotal = count(t, p);
            case "modelVersion" -> msgModel = string(t, p);
            case "responseId" -> msgId = string(t, p);
            case "candidates[].finishReason" -> {
                String reason = string(t, p);
                if (reason != null) {
                    msgFinish = true;
                    finishReasons.add(reason);
                }
            }
            case "candidates[].content.parts[].text" -> appendText(string(t, p));
            default -> {
            }
        }
    }

    @Override
    protected void messageEnd() {
        adoptModelAndId(msgModel, msgId);
        finishSeen |= msgFinish;
        if (!msgUsage) {
            return;
        }
        usageSeen = true;
        lastUsageFinished = msgFinish || finishSeen;
        prompt = msgPrompt;
        toolUse = msgToolUse;
        cached = msgCached;
        candidates = msgCandidates;
        thoughts = msgThoughts;
        total = msgTotal;
    }

    @Override
    protected Long inputTokens() {
        if (prompt == null) {
            return null;
        }
        return sum(prompt, toolUse);
    }

    @Override
    protected Long outputTokens() {
        if (!api.hasOutput()) {
            return null;
        }
        Long input = inputTokens();
        if (input == null) {
            return candidates == null && thoughts == null ? null : sum(candidates, thoughts);
        }
        Long parts = sum(candidates, thoughts);
        if (parts == null || parts < 0) {
            return parts;
        }
        if (total != null && total >= 0 && input >= 0 && total - input > parts) {
            return total - input;
        }
        return parts;
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
        return thoughts;
    }

    @Override
    protected boolean hasUsage() {
        return usageSeen;
    }

    /** A one-document response is complete; a stream only once its last chunk (the one with a finish reason) came. */
    @Override
    protected boolean complete() {
        return usageSeen && (!streamed() || lastUsageFinished || !api.hasOutput());
    }

    @Override
    protected boolean expectsOutput() {
        return api.hasOutput();
    }

    @Override
    protected String countsProblem() {
        return (prompt != null && inputTokens() == null) || (api.hasOutput() && sum(candidates, thoughts) == null
                && (candidates != null || thoughts != null)) ? "counts that overflow when added" : null;
    }

    /** a + b with null as 0 (both null: 0); null when the sum overflows; a negative part is returned as is. */
    private static Long sum(Long a, Long b) {
        long x = a == null ? 0 : a;
        long y = b == null ? 0 : b;
        if (x < 0) {
            return x;
        }
        if (y < 0) {
            return y;
        }
        try {
            return Math.addExact(x, y);
        } catch (ArithmeticException e) {
            return null;
        }
    }
}
