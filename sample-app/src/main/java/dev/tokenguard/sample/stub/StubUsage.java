package dev.tokenguard.sample.stub;

/**
 * The token usage {@link FakeOpenAiServer} computed for one answered request: what it put in the
 * response's {@code usage} object, or what it would have put there when the request did not ask
 * for usage (a chat stream without {@code stream_options.include_usage}).
 *
 * <p>{@code inputTokens} includes {@code cachedTokens} and {@code outputTokens} includes
 * {@code reasoningTokens}, as in OpenAI's usage objects. Embeddings have no output tokens.
 *
 * @param inputTokens     prompt / input tokens, cached ones included
 * @param outputTokens    completion / output tokens, reasoning ones included
 * @param cachedTokens    {@code prompt_tokens_details.cached_tokens} / {@code input_tokens_details.cached_tokens}
 * @param reasoningTokens {@code completion_tokens_details.reasoning_tokens} / {@code output_tokens_details.reasoning_tokens}
 */
public record StubUsage(long inputTokens, long outputTokens, long cachedTokens, long reasoningTokens) {

    /** {@code inputTokens + outputTokens}, as the server reports in {@code total_tokens}. */
    public long totalTokens() {
        return inputTokens + outputTokens;
    }
}
