package dev.tokenguard.otel;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One finished LLM request, as {@link GenAiTelemetry#record} exports it. Build it with
 * {@link #builder(String, String)}. Every number or name that is not known is {@code null}
 * and is left off the span and the metrics, never guessed.
 *
 * @param provider        GenAI convention provider name: {@code openai}, {@code anthropic}, {@code aws.bedrock}, ...
 * @param operation       GenAI convention operation name: {@code chat}, {@code embeddings}, {@code text_completion}, ...
 * @param requestModel    the model the app asked for
 * @param responseModel   the model the provider says answered
 * @param responseId      the provider's id of the response
 * @param inputTokens     input tokens, cached ones included (as the conventions define it)
 * @param outputTokens    output tokens
 * @param cacheReadTokens input tokens served from the provider's cache
 * @param cacheWriteTokens input tokens written to the provider's cache
 * @param reasoningTokens output tokens spent on reasoning
 * @param streaming       whether the request was a streaming one
 * @param finishReasons   finish reasons of the choices, empty when unknown
 * @param serverAddress   host the request went to
 * @param serverPort      port the request went to
 * @param errorType       {@code null} for a successful call; else the exception class name, or
 *                        {@link #REFUSED_ERROR_TYPE} for a call the budget refused
 * @param start           when the call started
 * @param end             when the call ended (for a stream: when the stream ended or was closed)
 * @param budget          state of the call's default budget, or {@code null}
 * @param warnings        thresholds this call crossed, empty when none
 * @param parent          the app's current span, or {@code null} to start a new trace
 * @param codeFunction    the application function that made the call, e.g.
 *                        {@code com.acme.tickets.Summarizer.summarize}, or {@code null}
 * @param codeLine        its source line, or {@code null}
 */
public record GenAiCall(String provider, String operation, String requestModel, String responseModel,
        String responseId, Long inputTokens, Long outputTokens, Long cacheReadTokens, Long cacheWriteTokens,
        Long reasoningTokens, boolean streaming, List<String> finishReasons, String serverAddress,
        Integer serverPort, String errorType, Instant start, Instant end, BudgetInfo budget,
        List<BudgetWarning> warnings, ParentSpan parent, String codeFunction, Integer codeLine) {

    /** The {@code error.type} of a call that TokenGuard refused because a budget was exhausted. */
    public static final String REFUSED_ERROR_TYPE = "dev.tokenguard.api.BudgetExhaustedException";

    public GenAiCall {
        requireText(provider, "provider", "e.g. 'openai'");
        requireText(operation, "operation", "e.g. 'chat'");
        Objects.requireNonNull(start, "start must not be null: the instant the call started");
        Objects.requireNonNull(end, "end must not be null: the instant the call (or its stream) ended");
        if (end.isBefore(start)) {
            throw new IllegalArgumentException("end " + end + " is before start " + start
                    + "; end must be at or after start");
        }
        finishReasons = finishReasons == null ? List.of() : List.copyOf(finishReasons);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    /** Whether the call failed or was refused. */
    public boolean failed() {
        return errorType != null;
    }

    /** Starts a builder; {@code start} and {@code end} must be set before {@link Builder#build()}. */
    public static Builder builder(String provider, String operation) {
        return new Builder(provider, operation);
    }

    private static void requireText(String value, String name, String example) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must be a GenAI convention name, " + example
                    + "; got " + (value == null ? "null" : "'" + value + "'"));
        }
    }

    /** Builds a {@link GenAiCall}; every setter is optional except the times. */
    public static final class Builder {
        private final String provider;
        private final String operation;
        private String requestModel;
        private String responseModel;
        private String responseId;
        private Long inputTokens;
        private Long outputTokens;
        private Long cacheReadTokens;
        private Long cacheWriteTokens;
        private Long reasoningTokens;
        private boolean streaming;
        private final List<String> finishReasons = new ArrayList<>();
        private String serverAddress;
        private Integer serverPort;
        private String errorType;
        private Instant start;
        private Instant end;
        private BudgetInfo budget;
        private final List<BudgetWarning> warnings = new ArrayList<>();
        private ParentSpan parent;
        private String codeFunction;
        private Integer codeLine;

        private Builder(String provider, String operation) {
            this.provider = provider;
            this.operation = operation;
        }

        public Builder requestModel(String model) { this.requestModel = model; return this; }
        public Builder responseModel(String model) { this.responseModel = model; return this; }
        public Builder responseId(String id) { this.responseId = id; return this; }
        public Builder inputTokens(Long tokens) { this.inputTokens = tokens; return this; }
        public Builder outputTokens(Long tokens) { this.outputTokens = tokens; return this; }
        public Builder cacheReadTokens(Long tokens) { this.cacheReadTokens = tokens; return this; }
        public Builder cacheWriteTokens(Long tokens) { this.cacheWriteTokens = tokens; return this; }
        public Builder reasoningTokens(Long tokens) { this.reasoningTokens = tokens; return this; }
        public Builder streaming(boolean streaming) { this.streaming = streaming; return this; }
        public Builder finishReasons(List<String> reasons) {
            this.finishReasons.clear();
            if (reasons != null) {
                reasons.stream().filter(Objects::nonNull).forEach(this.finishReasons::add);
            }
            return this;
        }
        public Builder server(String address, Integer port) { this.serverAddress = address; this.serverPort = port; return this; }
        /** The exception class name of a failed call; {@code null} for success. */
        public Builder errorType(String type) { this.errorType = type; return this; }
        /** Marks the call as failed with {@code failure}'s class name as {@code error.type}. */
        public Builder error(Throwable failure) { this.errorType = failure == null ? null : failure.getClass().getName(); return this; }
        /** Marks the call as refused by an exhausted budget ({@link #REFUSED_ERROR_TYPE}). */
        public Builder refused() { this.errorType = REFUSED_ERROR_TYPE; return this; }
        public Builder times(Instant start, Instant end) { this.start = start; this.end = end; return this; }
        public Builder budget(BudgetInfo budget) { this.budget = budget; return this; }
        public Builder warning(BudgetWarning warning) { if (warning != null) { this.warnings.add(warning); } return this; }
        public Builder parent(ParentSpan parent) { this.parent = parent; return this; }
        /** The application frame that made the call: {@code class.method} and line (null when unknown). */
        public Builder code(String function, Integer line) { this.codeFunction = function; this.codeLine = line; return this; }

        public GenAiCall build() {
            return new GenAiCall(provider, operation, requestModel, responseModel, responseId, inputTokens,
                    outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens, streaming, finishReasons,
                    serverAddress, serverPort, errorType, start, end, budget, warnings, parent, codeFunction,
                    codeLine);
        }
    }
}
