package dev.tokenguard.instrumentation.openai;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;

import java.util.ArrayList;
import java.util.List;

import static dev.tokenguard.instrumentation.SdkObjects.get;
import static dev.tokenguard.instrumentation.SdkObjects.number;
import static dev.tokenguard.instrumentation.SdkObjects.text;

/**
 * Reads token usage from openai-java's response objects: {@code ChatCompletion} and
 * {@code ChatCompletionChunk} ({@code CompletionUsage}: prompt / completion tokens, cached and
 * reasoning details), {@code Response} ({@code ResponseUsage}: input / output tokens and their
 * details) and {@code CreateEmbeddingResponse} (prompt tokens only). OpenAI's prompt tokens already
 * include the cached ones, as the GenAI conventions define input tokens.
 */
public final class OpenAiUsage {

    private OpenAiUsage() {
    }

    /** Usage of a {@code ChatCompletion} or of the final {@code ChatCompletionChunk} of a stream. */
    public static Usage ofChatCompletion(Object completion) {
        Object usage = get(completion, "usage");
        return new Usage(number(usage, "promptTokens"), number(usage, "completionTokens"),
                number(usage, "promptTokensDetails", "cachedTokens"), null,
                number(usage, "completionTokensDetails", "reasoningTokens"), text(completion, "model"),
                text(completion, "id"), chatFinishReasons(completion), UsageSource.PROVIDER);
    }

    /** Whether a chat chunk carries usage (the usage-only chunk that {@code include_usage} adds). */
    public static boolean hasUsage(Object chunk) {
        return get(chunk, "usage") != null;
    }

    /** The finish reasons of a chat completion's or chunk's choices, in choice order. */
    public static List<String> chatFinishReasons(Object completion) {
        Object choices = get(completion, "choices");
        if (!(choices instanceof List<?> list) || list.isEmpty()) {
            return List.of();
        }
        List<String> reasons = new ArrayList<>(list.size());
        for (Object choice : list) {
            String reason = text(choice, "finishReason");
            if (reason != null) {
                reasons.add(reason);
            }
        }
        return reasons;
    }

    /** The text a chat chunk adds (the content deltas of its choices), or null. */
    public static String chunkText(Object chunk) {
        Object choices = get(chunk, "choices");
        if (!(choices instanceof List<?> list) || list.isEmpty()) {
            return null;
        }
        StringBuilder text = null;
        for (Object choice : list) {
            Object content = get(get(choice, "delta"), "content");
            if (content instanceof String s && !s.isEmpty()) {
                if (text == null) {
                    text = new StringBuilder(s.length());
                }
                text.append(s);
            }
        }
        return text == null ? null : text.toString();
    }

    /** The text of a chat completion's choices (their message contents), or null. */
    public static String completionText(Object completion) {
        Object choices = get(completion, "choices");
        if (!(choices instanceof List<?> list) || list.isEmpty()) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (Object choice : list) {
            Object content = get(get(choice, "message"), "content");
            if (content instanceof String s) {
                text.append(s);
            }
        }
        return text.length() == 0 ? null : text.toString();
    }

    /** The output text of a Responses API {@code Response} (its messages' output_text parts), or null. */
    public static String responseText(Object response) {
        Object output = get(response, "output");
        if (!(output instanceof List<?> items)) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (Object item : items) {
            Object content = get(get(item, "message"), "content");
            if (content instanceof List<?> parts) {
                for (Object part : parts) {
                    Object t = get(get(part, "outputText"), "text");
                    if (t instanceof String s) {
                        text.append(s);
                    }
                }
            }
        }
        return text.length() == 0 ? null : text.toString();
    }

    /** Usage of a Responses API {@code Response}. */
    public static Usage ofResponse(Object response) {
        Object usage = get(response, "usage");
        String status = text(response, "status");
        return new Usage(number(usage, "inputTokens"), number(usage, "outputTokens"),
                number(usage, "inputTokensDetails", "cachedTokens"), null,
                number(usage, "outputTokensDetails", "reasoningTokens"), text(response, "model"),
                text(response, "id"), status == null ? List.of() : List.of(status), UsageSource.PROVIDER);
    }

    /**
     * The final {@code Response} a Responses API stream event carries ({@code response.completed},
     * {@code response.incomplete} or {@code response.failed}), or null for any other event.
     */
    public static Object finalResponseOf(Object event) {
        for (String kind : new String[] {"completed", "incomplete", "failed"}) {
            Object typed = get(event, kind);
            if (typed != null) {
                return get(typed, "response");
            }
        }
        return null;
    }

    /** The text a Responses API stream event adds ({@code response.output_text.delta}), or null. */
    public static String eventText(Object event) {
        Object delta = get(event, "outputTextDelta");
        return delta == null ? null : text(delta, "delta");
    }

    /** Usage of a {@code CreateEmbeddingResponse}: input tokens only; embeddings produce no output tokens. */
    public static Usage ofEmbeddings(Object response) {
        Object usage = get(response, "usage");
        return new Usage(number(usage, "promptTokens"), null, null, null, null, text(response, "model"), null,
                List.of(), UsageSource.PROVIDER);
    }
}
