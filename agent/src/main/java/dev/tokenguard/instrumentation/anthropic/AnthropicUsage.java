package dev.tokenguard.instrumentation.anthropic;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;

import java.util.List;

import static dev.tokenguard.instrumentation.SdkObjects.get;
import static dev.tokenguard.instrumentation.SdkObjects.number;
import static dev.tokenguard.instrumentation.SdkObjects.text;

/**
 * Reads token usage from anthropic-java's messages ({@code Message}, {@code BetaMessage}) and
 * stream events. Anthropic reports the uncached input, the cache reads and the cache writes
 * separately; the input tokens of a call, as the GenAI conventions define them, are their sum.
 */
public final class AnthropicUsage {

    private AnthropicUsage() {
    }

    /** The usage of a whole message. */
    public static Usage ofMessage(Object message) {
        Object usage = get(message, "usage");
        Counts c = Counts.of(usage);
        String stop = text(message, "stopReason");
        return c.toUsage(text(message, "model"), text(message, "id"), stop == null ? List.of() : List.of(stop),
                UsageSource.PROVIDER);
    }

    /** The text of a message's text blocks, or null. */
    public static String messageText(Object message) {
        Object content = get(message, "content");
        if (!(content instanceof List<?> blocks)) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (Object block : blocks) {
            Object t = get(get(block, "text"), "text");
            if (t instanceof String s) {
                text.append(s);
            }
        }
        return text.length() == 0 ? null : text.toString();
    }

    /**
     * The four counts of an Anthropic usage object as reported: uncached input, cache reads, cache
     * writes, output; each null when absent.
     */
    record Counts(Long input, Long cacheRead, Long cacheWrite, Long output) {

        static Counts of(Object usage) {
            return new Counts(number(usage, "inputTokens"), number(usage, "cacheReadInputTokens"),
                    number(usage, "cacheCreationInputTokens"), number(usage, "outputTokens"));
        }

        /** These counts where set, {@code earlier}'s elsewhere (a stream's later usage replaces, never adds). */
        Counts over(Counts earlier) {
            return earlier == null ? this : new Counts(input != null ? input : earlier.input,
                    cacheRead != null ? cacheRead : earlier.cacheRead, cacheWrite != null ? cacheWrite : earlier.cacheWrite,
                    output != null ? output : earlier.output);
        }

        /** The input tokens as the GenAI conventions count them: uncached + cache reads + cache writes. */
        Long totalInput() {
            if (input == null) {
                return null;
            }
            long r = cacheRead == null ? 0 : cacheRead;
            long w = cacheWrite == null ? 0 : cacheWrite;
            if (input < 0 || r < 0 || w < 0) {
                return -1L;
            }
            try {
                return Math.addExact(Math.addExact(input, r), w);
            } catch (ArithmeticException e) {
                return -1L;
            }
        }

        Usage toUsage(String model, String id, List<String> finishReasons, UsageSource source) {
            return new Usage(totalInput(), output, cacheRead, cacheWrite, null, model, id, finishReasons, source);
        }
    }
}
