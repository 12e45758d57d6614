package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.SdkObjects;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What TokenGuard reads of each Spring AI 1.x API it governs: the request's model and prompt text,
 * the usage of a response, and the usage and text carried by the elements of a stream. Spring AI's
 * API objects are records; they are read by their accessors, never linked against.
 */
enum SpringAiApi {
    /** {@code OpenAiApi.chatCompletionEntity} / {@code chatCompletionStream}. */
    OPENAI_CHAT("chat", true) {
        @Override
        Usage usage(Object completion) {
            return openAiUsage(SdkObjects.get(completion, "usage"), SdkObjects.text(completion, "model"),
                    SdkObjects.text(completion, "id"), finishReasons(completion));
        }

        @Override
        String promptText(Object request) {
            StringBuilder text = new StringBuilder();
            for (Object message : list(SdkObjects.get(request, "messages"))) {
                append(text, SdkObjects.get(message, "content"));
            }
            return text.toString();
        }

        @Override
        String outputText(Object response) {
            StringBuilder text = new StringBuilder();
            for (Object choice : list(SdkObjects.get(response, "choices"))) {
                append(text, SdkObjects.path(choice, "message", "content"));
                append(text, SdkObjects.path(choice, "delta", "content"));
            }
            return text.toString();
        }
    },
    /** {@code OpenAiApi.embeddings}. */
    OPENAI_EMBEDDINGS("embeddings", false) {
        @Override
        Usage usage(Object list) {
            Long input = SdkObjects.number(list, "usage", "promptTokens");
            return new Usage(input, null, null, null, null, SdkObjects.text(list, "model"), null, List.of(),
                    UsageSource.PROVIDER);
        }

        @Override
        String promptText(Object request) {
            StringBuilder text = new StringBuilder();
            Object input = SdkObjects.get(request, "input");
            if (input instanceof List<?> items) {
                for (Object item : items) {
                    append(text, item);
                }
            } else {
                append(text, input);
            }
            return text.toString();
        }

        @Override
        String outputText(Object response) {
            return null;
        }
    },
    /** {@code AnthropicApi.chatCompletionEntity} / {@code chatCompletionStream}. */
    ANTHROPIC_CHAT("chat", true) {
        @Override
        Usage usage(Object response) {
            Object usage = SdkObjects.get(response, "usage");
            String stop = SdkObjects.text(response, "stopReason");
            return anthropicUsage(SdkObjects.number(usage, "inputTokens"), SdkObjects.number(usage, "outputTokens"),
                    SdkObjects.number(usage, "cacheReadInputTokens"),
                    SdkObjects.number(usage, "cacheCreationInputTokens"), SdkObjects.text(response, "model"),
                    SdkObjects.text(response, "id"), stop == null ? List.of() : List.of(stop));
        }

        @Override
        String promptText(Object request) {
            StringBuilder text = new StringBuilder();
            Object system = SdkObjects.get(request, "system");
            if (system instanceof List<?> blocks) {
                for (Object block : blocks) {
                    append(text, SdkObjects.get(block, "text"));
                }
            } else {
                append(text, system);
            }
            for (Object message : list(SdkObjects.get(request, "messages"))) {
                for (Object block : list(SdkObjects.get(message, "content"))) {
                    append(text, SdkObjects.get(block, "text"));
                }
            }
            return text.toString();
        }

        @Override
        String outputText(Object response) {
            StringBuilder text = new StringBuilder();
            for (Object block : list(SdkObjects.get(response, "content"))) {
                append(text, SdkObjects.get(block, "text"));
            }
            return text.toString();
        }
    };

    private final String operation;
    private final boolean producesOutput;

    SpringAiApi(String operation, boolean producesOutput) {
        this.operation = operation;
        this.producesOutput = producesOutput;
    }

    /** The GenAI operation name. */
    String operation() {
        return operation;
    }

    /** Whether the API reports output tokens. */
    boolean producesOutput() {
        return producesOutput;
    }

    /** The usage a whole response reports (null counts where it reports none). */
    abstract Usage usage(Object response);

    /** The text of the request's prompt, for a local estimate. */
    abstract String promptText(Object request);

    /** The text a response (or one stream element) carries, for a local estimate; null when none. */
    abstract String outputText(Object response);

    /** A new accumulator for one stream of this API. */
    SpringAiStream newStream(boolean hideUsageChunk) {
        return this == ANTHROPIC_CHAT ? new SpringAiStream.Anthropic() : new SpringAiStream.OpenAi(hideUsageChunk);
    }

    /** The model a request names, or null. */
    static String model(Object request) {
        return SdkObjects.text(request, "model");
    }

    static Usage openAiUsage(Object usage, String model, String id, List<String> reasons) {
        return new Usage(SdkObjects.number(usage, "promptTokens"), SdkObjects.number(usage, "completionTokens"),
                SdkObjects.number(usage, "promptTokensDetails", "cachedTokens"), null,
                SdkObjects.number(usage, "completionTokenDetails", "reasoningTokens"), model, id, reasons,
                UsageSource.PROVIDER);
    }

    /**
     * Anthropic's counts as the GenAI conventions define them: the input includes the cache reads
     * and writes, which Anthropic reports apart.
     */
    static Usage anthropicUsage(Long input, Long output, Long cacheRead, Long cacheWrite, String model, String id,
                                List<String> reasons) {
        Long total = input == null ? null : input + (cacheRead == null ? 0 : cacheRead)
                + (cacheWrite == null ? 0 : cacheWrite);
        return new Usage(total, output, cacheRead, cacheWrite, null, model, id, reasons, UsageSource.PROVIDER);
    }

    /** OpenAI finish reasons of a completion or chunk, in OpenAI's wire spelling ({@code stop}, {@code tool_calls}). */
    static List<String> finishReasons(Object completion) {
        List<String> reasons = new ArrayList<>();
        for (Object choice : list(SdkObjects.get(completion, "choices"))) {
            Object reason = SdkObjects.get(choice, "finishReason");
            if (reason instanceof Enum<?> e) {
                reasons.add(e.name().toLowerCase(Locale.ROOT));
            } else if (reason != null) {
                reasons.add(String.valueOf(reason));
            }
        }
        return reasons;
    }

    static List<?> list(Object value) {
        return value instanceof List<?> l ? l : List.of();
    }

    private static void append(StringBuilder text, Object value) {
        if (value instanceof CharSequence s && s.length() > 0) {
            if (text.length() > 0) {
                text.append('\n');
            }
            text.append(s);
        }
    }
}
