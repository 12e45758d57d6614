package dev.tokenguard.api;

import java.time.Instant;
import java.util.List;

/**
 * One LLM call the agent charged, as its {@code llm_call} line in the session log records it. Numbers the provider did
 * not report are {@code null}, never guessed.
 *
 * @param start            when the call started
 * @param session          the session the call belongs to (the session log's {@code session})
 * @param scope            the scope instance the call was charged to, e.g. {@code thread:worker-3#41}, {@code global},
 *                         {@code mdc:tenant=acme}
 * @param provider         GenAI provider name: {@code openai}, {@code anthropic}, {@code aws.bedrock}, ...
 * @param operation        GenAI operation name: {@code chat}, {@code embeddings}, {@code text_completion}, ...
 * @param requestModel     the model the application asked for, or null
 * @param responseModel    the model that answered, or null
 * @param inputTokens      input tokens, cached input included, or null
 * @param outputTokens     output tokens, reasoning included, or null
 * @param totalTokens      input + output, what a token budget is charged, or null when both are unknown
 * @param cacheReadTokens  input tokens read from the provider's cache, or null
 * @param cacheWriteTokens input tokens written to the provider's cache, or null
 * @param reasoningTokens  output tokens spent on reasoning, or null
 * @param costUsd          estimated cost in USD from the price table, or null when the model is not priced
 * @param durationMillis   how long the call took, to the end of the stream for a streaming call
 * @param streaming        whether the call streamed
 * @param errorType        null for a successful call, else the type of the error it ended with
 * @param usageSource      {@code provider} when the counts were reported, {@code estimated} when counted locally
 * @param callSite         the application frame that made the call ({@code class.method:line}), or null
 * @param budgets          each budget's state for this call's scope right after the charge, in configuration order
 */
public record UsageEvent(Instant start, String session, String scope, String provider, String operation,
                         String requestModel, String responseModel, Long inputTokens, Long outputTokens,
                         Long totalTokens, Long cacheReadTokens, Long cacheWriteTokens, Long reasoningTokens,
                         Double costUsd, long durationMillis, boolean streaming, String errorType,
                         String usageSource, String callSite, List<BudgetStatus> budgets) {

    public UsageEvent {
        budgets = budgets == null ? List.of() : List.copyOf(budgets);
    }

    /** Whether the call ended with an error (its tokens, where reported, are charged all the same). */
    public boolean failed() {
        return errorType != null;
    }
}
