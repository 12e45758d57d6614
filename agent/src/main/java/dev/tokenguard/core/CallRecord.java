package dev.tokenguard.core;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One finished physical LLM request, as the budget engine, the session log and the telemetry
 * exporter consume it. Numbers that are unknown are {@code null}, never guessed.
 *
 * <p>It reads the request's and the usage's values from the {@link CallRequest} and the {@link Usage} it was made of
 * rather than copying each of them: a call's record is two references and its own few values.
 */
public final class CallRecord {
    private final CallRequest request;
    private final Usage usage;
    private final Instant start;
    private final long durationNanos;
    private final String errorType;
    private final Double costUsd;
    private final CallerFrame callSite;

    /**
     * A call's record from what the call asked for and what its response reported.
     *
     * @param request       what the call asked for: provider, operation, model, streaming, server
     * @param usage         what its response reported: tokens, response model and id, finish reasons, their source
     * @param start         when the call started
     * @param durationNanos how long the call took, to the end of the stream for streaming calls
     * @param errorType     null for a successful call, otherwise the error's type (exception class name)
     * @param costUsd       estimated cost in USD, or null when the model is not priced
     * @param callSite      the application frame that made the call, or null when unknown (or not looked for)
     */
    public CallRecord(CallRequest request, Usage usage, Instant start, long durationNanos, String errorType,
                      Double costUsd, CallerFrame callSite) {
        this.request = Objects.requireNonNull(request, "request");
        this.usage = Objects.requireNonNull(usage, "usage");
        this.start = start;
        this.durationNanos = durationNanos;
        this.errorType = errorType;
        this.costUsd = costUsd;
        this.callSite = callSite;
    }

    /**
     * A record of the given values.
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
     * @param usageSource      whether the token counts were reported or estimated (null: reported)
     * @param finishReasons    the finish reasons of the response's choices (may be empty or null)
     * @param serverAddress    the host the request went to, or null
     * @param serverPort       the port the request went to, or null
     * @param costUsd          estimated cost in USD, or null when the model is not priced
     * @param callSite         the application frame that made the call, or null when unknown (or not looked for)
     */
    public CallRecord(String provider, String operation, String requestModel, String responseModel,
                      String responseId, Long inputTokens, Long outputTokens, Long cacheReadTokens,
                      Long cacheWriteTokens, Long reasoningTokens, Instant start, long durationNanos,
                      boolean streaming, String errorType, UsageSource usageSource, List<String> finishReasons,
                      String serverAddress, Integer serverPort, Double costUsd, CallerFrame callSite) {
        this(new CallRequest(provider, operation, requestModel, streaming, serverAddress, serverPort),
                new Usage(inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens,
                        responseModel, responseId, finishReasons, usageSource),
                start, durationNanos, errorType, costUsd, callSite);
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

    /** GenAI semantic-convention provider name ({@code openai}, {@code anthropic}, ...). */
    public String provider() {
        return request.provider();
    }

    /** GenAI operation name ({@code chat}, {@code embeddings}, ...). */
    public String operation() {
        return request.operation();
    }

    /** The model the app asked for, or null. */
    public String requestModel() {
        return request.requestModel();
    }

    /** The model the provider answered with, or null. */
    public String responseModel() {
        return usage.responseModel();
    }

    /** The provider's id of the response, or null. */
    public String responseId() {
        return usage.responseId();
    }

    /** Input tokens including cached input, or null. */
    public Long inputTokens() {
        return usage.inputTokens();
    }

    /** Output tokens including reasoning, or null. */
    public Long outputTokens() {
        return usage.outputTokens();
    }

    /** Input tokens read from the provider's cache, or null. */
    public Long cacheReadTokens() {
        return usage.cacheReadTokens();
    }

    /** Input tokens written to the provider's cache, or null. */
    public Long cacheWriteTokens() {
        return usage.cacheWriteTokens();
    }

    /** Output tokens spent on reasoning, or null. */
    public Long reasoningTokens() {
        return usage.reasoningTokens();
    }

    /** When the call started. */
    public Instant start() {
        return start;
    }

    /** How long the call took, to the end of the stream for streaming calls. */
    public long durationNanos() {
        return durationNanos;
    }

    /** Whether the call streamed. */
    public boolean streaming() {
        return request.streaming();
    }

    /** Null for a successful call, otherwise the error's type (exception class name). */
    public String errorType() {
        return errorType;
    }

    /** Whether the token counts were reported or estimated. */
    public UsageSource usageSource() {
        return usage.source();
    }

    /** The finish reasons of the response's choices (may be empty, never null). */
    public List<String> finishReasons() {
        return usage.finishReasons();
    }

    /** The host the request went to, or null. */
    public String serverAddress() {
        return request.serverAddress();
    }

    /** The port the request went to, or null. */
    public Integer serverPort() {
        return request.serverPort();
    }

    /** Estimated cost in USD, or null when the model is not priced. */
    public Double costUsd() {
        return costUsd;
    }

    /** The application frame that made the call, or null when unknown (or not looked for). */
    public CallerFrame callSite() {
        return callSite;
    }

    /** {@code ok} or {@code error}. */
    public String status() {
        return errorType == null ? "ok" : "error";
    }

    /** input + output, or null when both are unknown. */
    public Long totalTokens() {
        Long in = inputTokens();
        Long out = outputTokens();
        if (in == null && out == null) {
            return null;
        }
        return orZero(in) + orZero(out);
    }

    /** The duration in whole milliseconds. */
    public long durationMillis() {
        return durationNanos / 1_000_000L;
    }

    public static long orZero(Long value) {
        return value == null ? 0L : value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CallRecord r && durationNanos == r.durationNanos && streaming() == r.streaming()
                && Objects.equals(provider(), r.provider()) && Objects.equals(operation(), r.operation())
                && Objects.equals(requestModel(), r.requestModel())
                && Objects.equals(responseModel(), r.responseModel())
                && Objects.equals(responseId(), r.responseId()) && Objects.equals(inputTokens(), r.inputTokens())
                && Objects.equals(outputTokens(), r.outputTokens())
                && Objects.equals(cacheReadTokens(), r.cacheReadTokens())
                && Objects.equals(cacheWriteTokens(), r.cacheWriteTokens())
                && Objects.equals(reasoningTokens(), r.reasoningTokens()) && Objects.equals(start, r.start)
                && Objects.equals(errorType, r.errorType) && usageSource() == r.usageSource()
                && finishReasons().equals(r.finishReasons()) && Objects.equals(serverAddress(), r.serverAddress())
                && Objects.equals(serverPort(), r.serverPort()) && Objects.equals(costUsd, r.costUsd)
                && Objects.equals(callSite, r.callSite);
    }

    @Override
    public int hashCode() {
        return Objects.hash(provider(), operation(), requestModel(), responseModel(), responseId(), inputTokens(),
                outputTokens(), start, durationNanos, errorType, costUsd);
    }

    @Override
    public String toString() {
        return "CallRecord[provider=" + provider() + ", operation=" + operation() + ", requestModel="
                + requestModel() + ", responseModel=" + responseModel() + ", responseId=" + responseId()
                + ", inputTokens=" + inputTokens() + ", outputTokens=" + outputTokens() + ", cacheReadTokens="
                + cacheReadTokens() + ", cacheWriteTokens=" + cacheWriteTokens() + ", reasoningTokens="
                + reasoningTokens() + ", start=" + start + ", durationNanos=" + durationNanos + ", streaming="
                + streaming() + ", errorType=" + errorType + ", usageSource=" + usageSource() + ", finishReasons="
                + finishReasons() + ", serverAddress=" + serverAddress() + ", serverPort=" + serverPort()
                + ", costUsd=" + costUsd + ", callSite=" + callSite + "]";
    }
}
