package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.core.Usage;
import dev.tokenguard.instrumentation.SdkObjects;

import java.util.ArrayList;
import java.util.List;

/**
 * The usage and text of one subscription to a streamed Spring AI response, read element by element
 * on the way to the app. Elements of one subscription arrive one at a time (Reactive Streams), the
 * end may be signalled from another thread, hence the volatile reads.
 */
abstract class SpringAiStream {
    private final StringBuilder text = new StringBuilder();
    private final List<String> reasons = new ArrayList<>();
    private volatile String model;
    private volatile String id;
    private volatile boolean completed;

    /** An element arrived; returns whether the app sees it. */
    abstract boolean onElement(Object element);

    /** The provider's final usage, or null when the stream reported none (or not all of it). */
    abstract Usage finalUsage();

    /** What the provider reported of the input, or null. */
    abstract Long reportedInput();

    /**
     * Whether the provider sent a usage chunk (for a stream that did not ask for one: whether the server sends its
     * usage unasked).
     */
    boolean usageSeen() {
        return finalUsage() != null;
    }

    /** The stream ran to its end (as opposed to being cancelled or failing). */
    void markCompleted() {
        completed = true;
    }

    boolean completed() {
        return completed;
    }

    synchronized String text() {
        return text.toString();
    }

    synchronized List<String> finishReasons() {
        return List.copyOf(reasons);
    }

    String model() {
        return model;
    }

    String id() {
        return id;
    }

    synchronized void addText(Object piece) {
        if (piece instanceof CharSequence s) {
            text.append(s);
        }
    }

    synchronized void addReasons(List<String> more) {
        for (String r : more) {
            if (!reasons.contains(r)) {
                reasons.add(r);
            }
        }
    }

    void seen(Object element) {
        String m = SdkObjects.text(element, "model");
        if (m != null) {
            model = m;
        }
        String i = SdkObjects.text(element, "id");
        if (i != null) {
            id = i;
        }
    }

    /**
     * An OpenAI chat stream: the usage arrives in the last chunk, with no choices, when the request
     * asked for it ({@code stream_options.include_usage}); the one usage-only chunk the agent's asking adds is
     * hidden from the app, which then reads the stream it would have read without the agent (a further usage-only
     * chunk is the server's own, and the app sees it).
     */
    static final class OpenAi extends SpringAiStream {
        private final boolean hideUsageChunk;
        private volatile Object usage;
        private boolean hidden;
        private volatile boolean usageChunkSeen;

        OpenAi(boolean hideUsageChunk) {
            this.hideUsageChunk = hideUsageChunk;
        }

        @Override
        boolean onElement(Object chunk) {
            seen(chunk);
            List<?> choices = SpringAiApi.list(SdkObjects.get(chunk, "choices"));
            for (Object choice : choices) {
                addText(SdkObjects.path(choice, "delta", "content"));
            }
            boolean afterFinish = !finishReasons().isEmpty();
            addReasons(SpringAiApi.finishReasons(chunk));
            Object u = SdkObjects.get(chunk, "usage");
            if (u == null && choices.isEmpty() && afterFinish) {
                // a usage chunk whose usage is left out or null: no choices, after the last finish reason (an Azure
                // OpenAI stream's first chunk has no choices too, but comes before any); the ask's chunk is hidden
                usageChunkSeen = true;
                if (hideUsageChunk && !hidden) {
                    hidden = true;
                    return false;
                }
            }
            if (u != null) {
                usage = u;
                usageChunkSeen = true;
                if (hideUsageChunk && choices.isEmpty() && !hidden) {
                    hidden = true;
                    return false;
                }
                return true;
            }
            return true;
        }

        @Override
        boolean usageSeen() {
            return usageChunkSeen;
        }

        @Override
        Usage finalUsage() {
            Object u = usage;
            if (u == null) {
                return null;
            }
            return SpringAiApi.openAiUsage(u, model(), id(), finishReasons());
        }

        @Override
        Long reportedInput() {
            return SdkObjects.number(usage, "promptTokens");
        }
    }

    /**
     * An Anthropic stream: Spring AI carries the message's usage on the responses it builds from
     * {@code message_start} and {@code message_delta}, and those counts are cumulative, so the last
     * value of each count is the message's usage (never a sum).
     */
    static final class Anthropic extends SpringAiStream {
        private volatile Long input;
        private volatile Long output;
        private volatile Long cacheRead;
        private volatile Long cacheWrite;

        @Override
        boolean onElement(Object response) {
            seen(response);
            for (Object block : SpringAiApi.list(SdkObjects.get(response, "content"))) {
                addText(SdkObjects.get(block, "text"));
            }
            String stop = SdkObjects.text(response, "stopReason");
            if (stop != null) {
                addReasons(List.of(stop));
            }
            Object usage = SdkObjects.get(response, "usage");
            if (usage != null) {
                input = last(input, SdkObjects.number(usage, "inputTokens"));
                output = last(output, SdkObjects.number(usage, "outputTokens"));
                cacheRead = last(cacheRead, SdkObjects.number(usage, "cacheReadInputTokens"));
                cacheWrite = last(cacheWrite, SdkObjects.number(usage, "cacheCreationInputTokens"));
            }
            return true;
        }

        private static Long last(Long previous, Long current) {
            return current != null ? current : previous;
        }

        @Override
        Usage finalUsage() {
            if (input == null || output == null) {
                return null;
            }
            return SpringAiApi.anthropicUsage(input, output, cacheRead, cacheWrite, model(), id(), finishReasons());
        }

        @Override
        Long reportedInput() {
            Long i = input;
            return i == null ? null : i + (cacheRead == null ? 0 : cacheRead) + (cacheWrite == null ? 0 : cacheWrite);
        }
    }
}
