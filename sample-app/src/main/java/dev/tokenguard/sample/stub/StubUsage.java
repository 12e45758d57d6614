package dev.tokenguard.sample.stub;

/**
 * The token usage a fake server computed for one answered request: what it put in the response's
 * usage object, or what it would have put there when the request did not ask for usage (an OpenAI
 * chat stream without {@code stream_options.include_usage}) or the server was told to hide it
 * ({@link UsageMode}).
 *
 * <p>{@code inputTokens} includes {@code cachedTokens} and {@code cacheWriteTokens}, and
 * {@code outputTokens} includes {@code reasoningTokens}, as the GenAI conventions count them. For
 * OpenAI that is the {@code prompt_tokens} / {@code input_tokens} figure as reported. For Anthropic,
 * whose {@code input_tokens} counts only the uncached part, it is {@code input_tokens +
 * cache_read_input_tokens + cache_creation_input_tokens}. Embeddings have no output tokens.
 *
 * @param inputTokens      input tokens, cached and cache-written ones included
 * @param outputTokens     output tokens, reasoning ones included
 * @param cachedTokens     input tokens read from a cache: OpenAI {@code prompt_tokens_details.cached_tokens} /
 *                         {@code input_tokens_details.cached_tokens}, Anthropic {@code cache_read_input_tokens}
 * @param reasoningTokens  OpenAI {@code completion_tokens_details.reasoning_tokens} /
 *                         {@code output_tokens_details.reasoning_tokens}; 0 for Anthropic
 * @param cacheWriteTokens input tokens written to a cache: Anthropic {@code cache_creation_input_tokens}; 0 for OpenAI
 */
public record StubUsage(long inputTokens, long outputTokens, long cachedTokens, long reasoningTokens,
                        long cacheWriteTokens) {

    /** A usage without cache writes (every OpenAI answer). */
    public StubUsage(long inputTokens, long outputTokens, long cachedTokens, long reasoningTokens) {
        this(inputTokens, outputTokens, cachedTokens, reasoningTokens, 0);
    }

    /** {@code inputTokens + outputTokens}, as OpenAI reports in {@code total_tokens}. */
    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    /**
     * The input tokens neither read from nor written to a cache: what Anthropic reports as
     * {@code input_tokens}; for OpenAI, {@code inputTokens - cachedTokens}.
     */
    public long uncachedInputTokens() {
        return inputTokens - cachedTokens - cacheWriteTokens;
    }
}
