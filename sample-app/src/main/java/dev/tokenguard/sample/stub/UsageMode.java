package dev.tokenguard.sample.stub;

/**
 * How the fake servers' answers report their usage ({@link FakeOpenAiServer#setUsageMode},
 * {@link FakeAnthropicServer#setUsageMode}): as the API does, or not readably, as some gateways
 * and compatible servers answer.
 */
public enum UsageMode {
    /** Usage as the API reports it. */
    NORMAL,
    /**
     * No {@code usage} field wherever the API puts one (Anthropic: the message, {@code message_start},
     * {@code message_delta}; OpenAI: the completion, every stream chunk, the Responses object).
     */
    ABSENT,
    /** {@code "usage": null} wherever a usage object belongs. */
    NULL,
    /**
     * A usage object with other field names. Anthropic: {@code in_tokens}, {@code out_tokens},
     * {@code cache_read_tokens}, {@code cache_write_tokens} ({@code out_tokens} alone in
     * {@code message_delta}). OpenAI: {@code in_tokens} and {@code out_tokens} for the prompt /
     * input and completion / output counts.
     */
    RENAMED
}
