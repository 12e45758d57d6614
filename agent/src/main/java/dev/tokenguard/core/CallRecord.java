package dev.tokenguard.core;

import java.time.Instant;
import java.util.List;

/**
 * One finished physical LLM request, as the budget engine, the session log and the telemetry
 * exporter consume it. Numbers that are unknown are {@code null}, never guessed.
 *
 * @param provider         GenAI semantic-convention provider name ({@code openai}, {@code anthropic}, ...)
 * @param operation        GenAI operation name ({@code chat}, {@code embeddings}, ...)
 * @param requestModel     the model the app asked for, or null
 * @param responseModel    the model the provider answered with, or null
 * @param responseId       the provider's id of the response, or null
 * @param inputTokens      input tokens including cached input, or null
 * @param outputTokens     output tokens including reasoning, or null
 * @param cacheReadTokens  input tokens read from the provider's cache, or null
 * @param cacheWriteTokens input tokens written to the provider's cache, or null
 * @param reasoningTokens  output tokens spent on reasoning, or null
 * @param start            when the call started
 * @param durationNanos    how long the call took, to the end of the stream for streaming calls
 * @param streaming        whether the call streamed
 * @param errorType        null for a successful call, otherwise the error's type (exception class name)
 * @param usageSource      whether the token counts were reported or estimated
 * @param finishReasons    the finish reasons of the response's choices (may be empty)
 * @param serverAddress    the host the request went to, or null
 * @param serverPort       the port the request went to, or null
 * @param costUsd          estimated cost in USD, or null when the model is not priced
 * @param callSite         the application frame that made the call, or null when unknown (or not looked for)
 */
public record CallRecord(String provider, String operation, String requestModel, String responseModel,
                         String responseId, Long inputTokens, Long outputTokens, Long cacheReadTokens,
                         Long cacheWriteTokens, Long reasoningTokens, Instant start, long durationNanos,
                         boolean streaming, String errorType, UsageSource usageSource, List<String> finishReasons,
                         String serverAddress, Integer serverPort, Double costUsd, CallerFrame callSite) {

    public CallRecord {
        finishReasons = finishReasons == null ? List.of() : List.copyOf(finishReasons);
    }

    /** A record without a call site. */
    public CallRecord(String provider, String operation, String requestModel, String responseModel,
                      String responseId, Long inputTokens, Long outputTokens, Long cacheReadTokens,
                      Long cacheWriteTokens, Long reasoningTokens, Instant start, long durationNanos,
                      boolean streaming, String errorType, UsageSource usageSource, List<String> finishReasons,
                      String serverAddress, Integer serverPort, Double costUsd) {
        this(provider, operation, requestModel, responseModel, responseId, inputTokens, outputTokens,
                cacheReadTokens, cacheWriteTokens, reasoningTokens, start, durationNanos, streaming, errorType,
                usageSource, finishReasons, serverAddress, serverPort, costUsd, null);
    }

    /** {@code ok} or {@code error}. */
    public String status() {
        return errorType == null ? "ok" : "error";
    }

    /** input + output, or null when both are unknown. */
    public Long totalTokens() {
        if (inputTokens == null && outputTokens == null) {
            return null;
        }
        return orZero(inputTokens) + orZero(outputTokens);
    }

    /** The duration in whole milliseconds. */
    public long durationMillis() {
        return durationNanos / 1_000_000L;
    }

    public static long orZero(Long value) {
        return value == null ? 0L : value;
    }
}
