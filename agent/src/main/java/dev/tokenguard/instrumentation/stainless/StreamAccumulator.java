package dev.tokenguard.instrumentation.stainless;

import dev.tokenguard.core.Usage;

import java.util.ArrayList;
import java.util.List;

/**
 * What one streamed response has shown so far: the provider's final usage once it came, the model,
 * id and finish reasons, and the text (for an estimate when no usage comes). Written by the thread
 * that consumes the stream; read once when the stream ends.
 */
public abstract class StreamAccumulator {
    protected volatile Usage finalUsage;
    protected String model;
    protected String id;
    protected final List<String> finishReasons = new ArrayList<>(1);
    private StringBuilder text;

    /** An element arrived; returns whether the app sees it. */
    public abstract boolean onElement(Object element);

    /** The provider's final usage, or null when the stream ended without one. */
    public Usage finalUsage() {
        return finalUsage;
    }

    /**
     * Whether the provider sent a usage element (for a stream that did not ask for one: whether the server sends
     * its usage unasked); by default, whether a final usage came.
     */
    public boolean usageSeen() {
        return finalUsage != null;
    }

    /**
     * What the provider reported of the input before the stream ended (e.g. Anthropic's
     * {@code message_start}), for a stream that ended without its final usage; null when nothing.
     */
    public Usage partialUsage() {
        return null;
    }

    public String model() {
        return model;
    }

    public String id() {
        return id;
    }

    public List<String> finishReasons() {
        return List.copyOf(finishReasons);
    }

    /** The text streamed so far, or null when none. */
    public CharSequence text() {
        return text;
    }

    protected final void appendText(String more) {
        if (more != null && !more.isEmpty()) {
            if (text == null) {
                text = new StringBuilder();
            }
            text.append(more);
        }
    }
}
