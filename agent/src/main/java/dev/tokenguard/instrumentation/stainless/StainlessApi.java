package dev.tokenguard.instrumentation.stainless;

import dev.tokenguard.core.Usage;

import java.util.List;

/**
 * One API of a Stainless SDK (OpenAI chat completions, Responses, embeddings; Anthropic messages):
 * the small part of a governed call that knows the API's request and response types. The lifecycle
 * around it, shared by every Stainless SDK, is {@link StainlessCall}.
 */
public interface StainlessApi {

    /** The GenAI operation name, e.g. {@code chat}. */
    String operation();

    /** The fields of the request body that hold the prompt, e.g. {@code messages}. */
    List<String> promptFields();

    /** Whether a response has output tokens (embeddings have none). */
    default boolean producesOutput() {
        return true;
    }

    /**
     * For a stream: the same request asking the provider to report usage, or null when it already
     * does or the API always reports it. The usage-only element this adds is hidden from the app.
     */
    default Object askForStreamUsage(Object params) throws ReflectiveOperationException {
        return null;
    }

    /** The same request carrying {@code notice} for the model, or {@code params} when this API takes none. */
    Object withNotice(Object params, String notice) throws ReflectiveOperationException;

    /** The usage of a parsed, non-streamed response. */
    Usage usage(Object response);

    /** The text of a parsed response, for content capture, or null. */
    String completionText(Object response);

    /** A new accumulator of one streamed response. */
    StreamAccumulator newStream(boolean hideUsageElement);
}
