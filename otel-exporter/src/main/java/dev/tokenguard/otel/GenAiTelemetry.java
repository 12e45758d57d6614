package dev.tokenguard.otel;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Turns finished LLM calls into one {@code CLIENT} span each (GenAI semantic conventions plus
 * TokenGuard's budget attributes and warning events) and the {@code gen_ai.client.token.usage} /
 * {@code gen_ai.client.operation.duration} histograms, plus the budget metrics: the
 * {@code tokenguard.budget.warnings} and {@code tokenguard.budget.refusals} counters and, once
 * {@link #observeBudgets} is given a source, the {@code tokenguard.budget.utilization} gauge.
 *
 * <p>Thread-safe; create one per {@link OpenTelemetry} and share it. {@link #record} never throws
 * and never blocks on the network: the SDK's processors export asynchronously.
 */
public final class GenAiTelemetry {

    /** Instrumentation scope name of the tracer and meter. */
    public static final String SCOPE_NAME = "dev.tokenguard";

    static final List<Long> TOKEN_BUCKETS = List.of(1L, 4L, 16L, 64L, 256L, 1024L, 4096L, 16384L, 65536L,
            262144L, 1048576L, 4194304L, 16777216L, 67108864L);
    static final List<Double> DURATION_BUCKETS = List.of(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56,
            5.12, 10.24, 20.48, 40.96, 81.92);

    private static final AttributeKey<String> OPERATION_NAME = AttributeKey.stringKey(GenAiAttributes.OPERATION_NAME);
    private static final AttributeKey<String> PROVIDER_NAME = AttributeKey.stringKey(GenAiAttributes.PROVIDER_NAME);
    private static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey(GenAiAttributes.REQUEST_MODEL);
    private static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey(GenAiAttributes.RESPONSE_MODEL);
    private static final AttributeKey<String> RESPONSE_ID = AttributeKey.stringKey(GenAiAttributes.RESPONSE_ID);
    private static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey(GenAiAttributes.USAGE_INPUT_TOKENS);
    private static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey(GenAiAttributes.USAGE_OUTPUT_TOKENS);
    private static final AttributeKey<Long> CACHE_READ_TOKENS =
            AttributeKey.longKey(GenAiAttributes.USAGE_CACHE_READ_INPUT_TOKENS);
    private static final AttributeKey<Long> CACHE_CREATION_TOKENS =
            AttributeKey.longKey(GenAiAttributes.USAGE_CACHE_CREATION_INPUT_TOKENS);
    private static final AttributeKey<Long> REASONING_TOKENS =
            AttributeKey.longKey(GenAiAttributes.USAGE_REASONING_OUTPUT_TOKENS);
    private static final AttributeKey<Boolean> REQUEST_STREAM = AttributeKey.booleanKey(GenAiAttributes.REQUEST_STREAM);
    private static final AttributeKey<List<String>> FINISH_REASONS =
            AttributeKey.stringArrayKey(GenAiAttributes.RESPONSE_FINISH_REASONS);
    private static final AttributeKey<String> TOKEN_TYPE = AttributeKey.stringKey(GenAiAttributes.TOKEN_TYPE);
    private static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey(GenAiAttributes.SERVER_ADDRESS);
    private static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey(GenAiAttributes.SERVER_PORT);
    private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey(GenAiAttributes.ERROR_TYPE);
    private static final AttributeKey<String> BUDGET_NAME = AttributeKey.stringKey(GenAiAttributes.BUDGET_NAME);
    private static final AttributeKey<String> BUDGET_SCOPE = AttributeKey.stringKey(GenAiAttributes.BUDGET_SCOPE);
    private static final AttributeKey<Long> BUDGET_USED = AttributeKey.longKey(GenAiAttributes.BUDGET_USED_TOKENS);
    private static final AttributeKey<Long> BUDGET_LIMIT = AttributeKey.longKey(GenAiAttributes.BUDGET_LIMIT_TOKENS);
    private static final AttributeKey<Double> BUDGET_THRESHOLD =
            AttributeKey.doubleKey(GenAiAttributes.BUDGET_THRESHOLD);
    private static final AttributeKey<String> BUDGET_SCOPE_KIND =
            AttributeKey.stringKey(GenAiAttributes.BUDGET_SCOPE_KIND);
    private static final AttributeKey<String> CODE_FUNCTION = AttributeKey.stringKey(GenAiAttributes.CODE_FUNCTION_NAME);
    private static final AttributeKey<Long> CODE_LINE = AttributeKey.longKey(GenAiAttributes.CODE_LINE_NUMBER);

    private final Tracer tracer;
    private final LongHistogram tokenUsage;
    private final DoubleHistogram operationDuration;
    private final LongCounter budgetWarnings;
    private final LongCounter budgetRefusals;
    private final Meter meter;
    private final AtomicLong failures = new AtomicLong();

    /**
     * @param openTelemetry where spans and metrics go: {@link OtelSetup#start()}'s result, or any
     *                      SDK (tests use one with in-memory exporters)
     */
    public GenAiTelemetry(OpenTelemetry openTelemetry) {
        this.tracer = openTelemetry.getTracer(SCOPE_NAME);
        Meter meter = openTelemetry.getMeter(SCOPE_NAME);
        this.tokenUsage = meter.histogramBuilder(GenAiAttributes.METRIC_TOKEN_USAGE)
                .ofLongs()
                .setUnit("{token}")
                .setDescription("Number of input and output tokens used")
                .setExplicitBucketBoundariesAdvice(TOKEN_BUCKETS)
                .build();
        this.operationDuration = meter.histogramBuilder(GenAiAttributes.METRIC_OPERATION_DURATION)
                .setUnit("s")
                .setDescription("GenAI operation duration")
                .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS)
                .build();
        this.budgetWarnings = meter.counterBuilder(GenAiAttributes.METRIC_BUDGET_WARNINGS)
                .setUnit("{warning}")
                .setDescription("Budget warning thresholds crossed")
                .build();
        this.budgetRefusals = meter.counterBuilder(GenAiAttributes.METRIC_BUDGET_REFUSALS)
                .setUnit("{call}")
                .setDescription("Calls refused because a budget was exhausted")
                .build();
        this.meter = meter;
    }

    /**
     * Reports the {@code tokenguard.budget.utilization} gauge (used / limit, unit {@code 1}) at each metric
     * collection, one point per scope instance that {@code source} returns, with the attributes
     * {@code tokenguard.budget.name}, {@code tokenguard.budget.scope} and {@code tokenguard.budget.scope.kind}.
     * The source bounds the cardinality: it returns only the scope instances that matter (TokenGuard's: the
     * few closest to their limit per budget and scope kind). Call it once.
     */
    public void observeBudgets(Supplier<? extends Collection<BudgetUtilization>> source) {
        meter.gaugeBuilder(GenAiAttributes.METRIC_BUDGET_UTILIZATION)
                .setUnit("1")
                .setDescription("Budget used / limit, per budget and scope instance (the ones closest to their"
                        + " limit)")
                .buildWithCallback(measurement -> {
                    try {
                        for (BudgetUtilization u : source.get()) {
                            AttributesBuilder attributes = Attributes.builder()
                                    .put(BUDGET_NAME, u.budgetName())
                                    .put(BUDGET_SCOPE, u.scope());
                            putIfKnown(attributes, BUDGET_SCOPE_KIND, u.scopeKind());
                            measurement.record(u.utilization(), attributes.build());
                        }
                    } catch (RuntimeException | LinkageError e) {
                        failures.incrementAndGet();
                    }
                });
    }

    /**
     * Exports {@code call} as a span (started and ended at the call's own times) and metric points.
     *
     * @return the new span's ids, or empty when no span was created (telemetry off, or an internal
     *         failure, which is counted in {@link #failures()} and never thrown)
     */
    public Optional<SpanIds> record(GenAiCall call) {
        return record(call, null);
    }

    /**
     * Like {@link #record(GenAiCall)}, with span ids chosen beforehand by {@link SpanIds#random}: a call recorded late
     * (the SDK was still starting when it ended) keeps the ids the session log already names. The ids are used
     * where the SDK is {@link OtelSetup}'s; another SDK picks its own.
     *
     * @param presetIds the span's ids, or null to let the SDK choose
     */
    public Optional<SpanIds> record(GenAiCall call, SpanIds presetIds) {
        try {
            SpanIds ids = PresetIds.with(presetIds, () -> recordSpan(call));
            recordMetrics(call);
            return Optional.ofNullable(ids);
        } catch (RuntimeException | LinkageError e) {
            failures.incrementAndGet();
            return Optional.empty();
        }
    }

    /** How many calls could not be exported because of an internal failure (for a once-only report). */
    public long failures() {
        return failures.get();
    }

    private SpanIds recordSpan(GenAiCall call) {
        SpanBuilder builder = tracer.spanBuilder(spanName(call))
                .setSpanKind(SpanKind.CLIENT)
                .setStartTimestamp(call.start());
        SpanContext parentContext = null;
        if (call.parent() != null) {
            parentContext = call.parent().toSpanContext();
            builder.setParent(Context.root().with(Span.wrap(parentContext)));
        } else {
            builder.setNoParent();
        }
        AttributesBuilder attributes = commonAttributes(call);
        putIfKnown(attributes, RESPONSE_ID, call.responseId());
        putIfKnown(attributes, INPUT_TOKENS, call.inputTokens());
        putIfKnown(attributes, OUTPUT_TOKENS, call.outputTokens());
        putIfKnown(attributes, CACHE_READ_TOKENS, call.cacheReadTokens());
        putIfKnown(attributes, CACHE_CREATION_TOKENS, call.cacheWriteTokens());
        putIfKnown(attributes, REASONING_TOKENS, call.reasoningTokens());
        attributes.put(REQUEST_STREAM, call.streaming());
        if (!call.finishReasons().isEmpty()) {
            attributes.put(FINISH_REASONS, call.finishReasons());
        }
        putIfKnown(attributes, ERROR_TYPE, call.errorType());
        putIfKnown(attributes, CODE_FUNCTION, call.codeFunction());
        if (call.codeLine() != null) {
            attributes.put(CODE_LINE, call.codeLine().longValue());
        }
        if (call.budget() != null) {
            BudgetInfo budget = call.budget();
            attributes.put(BUDGET_NAME, budget.name());
            attributes.put(BUDGET_SCOPE, budget.scope());
            putIfKnown(attributes, BUDGET_USED, budget.usedTokens());
            putIfKnown(attributes, BUDGET_LIMIT, budget.limitTokens());
        }
        builder.setAllAttributes(attributes.build());

        Span span = builder.startSpan();
        for (BudgetWarning warning : call.warnings()) {
            AttributesBuilder event = Attributes.builder()
                    .put(BUDGET_NAME, warning.budgetName())
                    .put(BUDGET_THRESHOLD, warning.threshold());
            putIfKnown(event, BUDGET_USED, warning.usedTokens());
            putIfKnown(event, BUDGET_LIMIT, warning.limitTokens());
            span.addEvent(GenAiAttributes.BUDGET_WARNING_EVENT, event.build(), call.end());
        }
        if (call.failed()) {
            span.setStatus(StatusCode.ERROR);
        }
        span.end(call.end());

        SpanContext created = span.getSpanContext();
        // a no-op tracer hands back the parent (or an invalid context): that is not our span
        if (!created.isValid() || created.equals(parentContext)) {
            return null;
        }
        return new SpanIds(created.getTraceId(), created.getSpanId());
    }

    private void recordMetrics(GenAiCall call) {
        Attributes common = commonAttributes(call).build();
        if (call.inputTokens() != null) {
            tokenUsage.record(call.inputTokens(), common.toBuilder().put(TOKEN_TYPE, "input").build());
        }
        if (call.outputTokens() != null) {
            tokenUsage.record(call.outputTokens(), common.toBuilder().put(TOKEN_TYPE, "output").build());
        }
        Attributes durationAttributes = call.failed()
                ? common.toBuilder().put(ERROR_TYPE, call.errorType()).build()
                : common;
        long nanos = Duration.between(call.start(), call.end()).toNanos();
        operationDuration.record(nanos / 1_000_000_000.0, durationAttributes);
        for (BudgetWarning warning : call.warnings()) {
            AttributesBuilder attributes = Attributes.builder()
                    .put(BUDGET_NAME, warning.budgetName())
                    .put(BUDGET_THRESHOLD, warning.threshold());
            putIfKnown(attributes, BUDGET_SCOPE_KIND, BudgetScopes.kind(warning.scope()));
            budgetWarnings.add(1, attributes.build());
        }
        if (GenAiCall.REFUSED_ERROR_TYPE.equals(call.errorType())) {
            AttributesBuilder attributes = Attributes.builder();
            if (call.budget() != null) {
                attributes.put(BUDGET_NAME, call.budget().name());
                putIfKnown(attributes, BUDGET_SCOPE_KIND, BudgetScopes.kind(call.budget().scope()));
            }
            budgetRefusals.add(1, attributes.put(PROVIDER_NAME, call.provider()).build());
        }
    }

    /** The attributes the span and both metrics share. */
    private static AttributesBuilder commonAttributes(GenAiCall call) {
        AttributesBuilder attributes = Attributes.builder()
                .put(OPERATION_NAME, call.operation())
                .put(PROVIDER_NAME, call.provider());
        putIfKnown(attributes, REQUEST_MODEL, call.requestModel());
        putIfKnown(attributes, RESPONSE_MODEL, call.responseModel());
        putIfKnown(attributes, SERVER_ADDRESS, call.serverAddress());
        if (call.serverPort() != null) {
            attributes.put(SERVER_PORT, call.serverPort().longValue());
        }
        return attributes;
    }

    static String spanName(GenAiCall call) {
        String model = call.requestModel();
        return model == null || model.isBlank() ? call.operation() : call.operation() + " " + model;
    }

    private static <T> void putIfKnown(AttributesBuilder attributes, AttributeKey<T> key, T value) {
        if (value != null) {
            attributes.put(key, value);
        }
    }
}
