package dev.tokenguard.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GenAiTelemetryTest {

    private static final Instant START = Instant.parse("2026-03-01T10:15:30.123456789Z");
    private static final Instant END = START.plusMillis(1500);
    private static final String PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String PARENT_SPAN = "00f067aa0ba902b7";

    private InMemorySpanExporter spans;
    private InMemoryMetricReader metrics;
    private OpenTelemetrySdk sdk;
    private GenAiTelemetry telemetry;

    @BeforeEach
    void setUp() {
        spans = InMemorySpanExporter.create();
        metrics = InMemoryMetricReader.create();
        sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
                .build();
        telemetry = new GenAiTelemetry(sdk);
    }

    @AfterEach
    void tearDown() {
        sdk.close();
    }

    private static GenAiCall.Builder fullCall() {
        return GenAiCall.builder("openai", "chat")
                .requestModel("gpt-4o")
                .responseModel("gpt-4o-2024-08-06")
                .responseId("chatcmpl-123")
                .inputTokens(1200L)
                .outputTokens(300L)
                .cacheReadTokens(1024L)
                .cacheWriteTokens(0L)
                .reasoningTokens(64L)
                .streaming(true)
                .finishReasons(List.of("stop", "length"))
                .server("api.openai.com", 443)
                .times(START, END)
                .budget(new BudgetInfo("default", "thread:worker-3#42", 91_500L, 100_000L));
    }

    @Test
    void successfulCallIsOneClientSpanWithAllGenAiAndBudgetAttributes() {
        Optional<SpanIds> ids = telemetry.record(fullCall().build());

        SpanData span = onlySpan();
        assertEquals("chat gpt-4o", span.getName());
        assertEquals(SpanKind.CLIENT, span.getKind());
        assertEquals(GenAiTelemetry.SCOPE_NAME, span.getInstrumentationScopeInfo().getName());
        Attributes expected = Attributes.builder()
                .put("gen_ai.operation.name", "chat")
                .put("gen_ai.provider.name", "openai")
                .put("gen_ai.request.model", "gpt-4o")
                .put("gen_ai.response.model", "gpt-4o-2024-08-06")
                .put("gen_ai.response.id", "chatcmpl-123")
                .put("gen_ai.usage.input_tokens", 1200L)
                .put("gen_ai.usage.output_tokens", 300L)
                .put("gen_ai.usage.cache_read.input_tokens", 1024L)
                .put("gen_ai.usage.cache_creation.input_tokens", 0L)
                .put("gen_ai.usage.reasoning.output_tokens", 64L)
                .put("gen_ai.request.stream", true)
                .put(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons"), List.of("stop", "length"))
                .put("server.address", "api.openai.com")
                .put("server.port", 443L)
                .put("tokenguard.budget.name", "default")
                .put("tokenguard.budget.scope", "thread:worker-3#42")
                .put("tokenguard.budget.used_tokens", 91_500L)
                .put("tokenguard.budget.limit_tokens", 100_000L)
                .build();
        assertEquals(expected.asMap(), span.getAttributes().asMap());
        assertNull(span.getAttributes().get(AttributeKey.stringKey("gen_ai.system")));
        assertEquals(StatusCode.UNSET, span.getStatus().getStatusCode());
        assertEquals(epochNanos(START), span.getStartEpochNanos());
        assertEquals(epochNanos(END), span.getEndEpochNanos());
        assertTrue(span.getEvents().isEmpty());
        assertFalse(span.getParentSpanContext().isValid(), "no parent given: a new root span");
        assertEquals(Optional.of(new SpanIds(span.getTraceId(), span.getSpanId())), ids);
    }

    @Test
    void unknownValuesAreOmittedAndTheNameIsTheOperationAlone() {
        telemetry.record(GenAiCall.builder("anthropic", "chat").times(START, END).build());

        SpanData span = onlySpan();
        assertEquals("chat", span.getName());
        assertEquals(Attributes.builder()
                .put("gen_ai.operation.name", "chat")
                .put("gen_ai.provider.name", "anthropic")
                .put("gen_ai.request.stream", false)
                .build().asMap(), span.getAttributes().asMap());
    }

    @Test
    void eachCrossedThresholdIsAWarningEventAtTheEndOfTheCall() {
        telemetry.record(fullCall()
                .warning(new BudgetWarning("default", 0.75, 91_500L, 100_000L))
                .warning(new BudgetWarning("default", 0.90, 91_500L, 100_000L))
                .build());

        List<EventData> events = onlySpan().getEvents();
        assertEquals(2, events.size());
        for (EventData event : events) {
            assertEquals("tokenguard.budget.warning", event.getName());
            assertEquals(epochNanos(END), event.getEpochNanos());
        }
        assertEquals(Attributes.builder()
                .put("tokenguard.budget.name", "default")
                .put("tokenguard.budget.threshold", 0.75)
                .put("tokenguard.budget.used_tokens", 91_500L)
                .put("tokenguard.budget.limit_tokens", 100_000L)
                .build().asMap(), events.get(0).getAttributes().asMap());
        assertEquals(0.90, events.get(1).getAttributes().get(AttributeKey.doubleKey("tokenguard.budget.threshold")));
    }

    @Test
    void refusedCallIsAnErrorSpanWithTheBudgetExceptionAsErrorType() {
        telemetry.record(GenAiCall.builder("openai", "chat")
                .requestModel("gpt-4o")
                .refused()
                .times(START, START)
                .budget(new BudgetInfo("default", "thread:main#1", 100_512L, 100_000L))
                .build());

        SpanData span = onlySpan();
        assertEquals(StatusCode.ERROR, span.getStatus().getStatusCode());
        assertEquals("dev.tokenguard.api.BudgetExhaustedException",
                span.getAttributes().get(AttributeKey.stringKey("error.type")));
        assertEquals(100_512L, span.getAttributes().get(AttributeKey.longKey("tokenguard.budget.used_tokens")));
        assertNull(span.getAttributes().get(AttributeKey.longKey("gen_ai.usage.input_tokens")));
        assertEquals(span.getStartEpochNanos(), span.getEndEpochNanos());
    }

    @Test
    void failedCallCarriesTheExceptionClassName() {
        telemetry.record(fullCall().error(new java.net.SocketTimeoutException("read timed out")).build());

        SpanData span = onlySpan();
        assertEquals(StatusCode.ERROR, span.getStatus().getStatusCode());
        assertEquals("java.net.SocketTimeoutException", span.getAttributes().get(AttributeKey.stringKey("error.type")));
    }

    @Test
    void spanIsAChildOfTheAppsSpanInTheSameTrace() {
        Optional<SpanIds> ids = telemetry.record(
                fullCall().parent(new ParentSpan(PARENT_TRACE, PARENT_SPAN, (byte) 1, false)).build());

        SpanData span = onlySpan();
        assertEquals(PARENT_TRACE, span.getTraceId());
        assertEquals(PARENT_SPAN, span.getParentSpanId());
        assertFalse(span.getParentSpanContext().isRemote());
        assertEquals(PARENT_TRACE, ids.orElseThrow().traceId());
        assertEquals(span.getSpanId(), ids.orElseThrow().spanId());
    }

    @Test
    void remoteParentStaysRemote() {
        telemetry.record(fullCall().parent(new ParentSpan(PARENT_TRACE, PARENT_SPAN, (byte) 1, true)).build());

        assertTrue(onlySpan().getParentSpanContext().isRemote());
    }

    @Test
    void unsampledParentMeansNoExportedSpanButStillFreshIdsInTheParentsTrace() {
        Optional<SpanIds> ids = telemetry.record(
                fullCall().parent(new ParentSpan(PARENT_TRACE, PARENT_SPAN, (byte) 0, false)).build());

        assertTrue(spans.getFinishedSpanItems().isEmpty(), "the default parent-based sampler drops the span");
        assertEquals(PARENT_TRACE, ids.orElseThrow().traceId());
        assertFalse(ids.orElseThrow().spanId().equals(PARENT_SPAN));
    }

    @Test
    void invalidParentIdsAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ParentSpan("xyz", PARENT_SPAN, (byte) 1, false));
        assertTrue(e.getMessage().contains("'xyz'") && e.getMessage().contains("32 lower-case hex"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ParentSpan(PARENT_TRACE, "0000000000000000", (byte) 1, false));
    }

    @Test
    void noopOpenTelemetryGivesNoIdsEvenWithAParent() {
        GenAiTelemetry off = new GenAiTelemetry(OpenTelemetry.noop());

        assertEquals(Optional.empty(), off.record(fullCall().build()));
        assertEquals(Optional.empty(),
                off.record(fullCall().parent(new ParentSpan(PARENT_TRACE, PARENT_SPAN, (byte) 1, false)).build()));
        assertEquals(0, off.failures());
    }

    @Test
    void recordNeverThrowsAndCountsInternalFailures() {
        Tracer broken = name -> {
            throw new IllegalStateException("tracer broke");
        };
        OpenTelemetry brokenOtel = new OpenTelemetry() {
            @Override
            public TracerProvider getTracerProvider() {
                return new TracerProvider() {
                    @Override
                    public Tracer get(String instrumentationScopeName) {
                        return broken;
                    }

                    @Override
                    public Tracer get(String instrumentationScopeName, String instrumentationScopeVersion) {
                        return broken;
                    }
                };
            }

            @Override
            public MeterProvider getMeterProvider() {
                return MeterProvider.noop();
            }

            @Override
            public ContextPropagators getPropagators() {
                return ContextPropagators.noop();
            }
        };
        GenAiTelemetry fragile = new GenAiTelemetry(brokenOtel);

        assertEquals(Optional.empty(), fragile.record(fullCall().build()));
        assertEquals(1, fragile.failures());
    }

    @Test
    void tokenUsageHistogramHasOnePointPerTokenTypeWithTheConventionBuckets() {
        telemetry.record(fullCall().build());
        telemetry.record(fullCall().inputTokens(10L).outputTokens(2L).build());

        MetricData usage = metric("gen_ai.client.token.usage");
        assertEquals("{token}", usage.getUnit());
        Map<String, HistogramPointData> byType = usage.getHistogramData().getPoints().stream()
                .collect(Collectors.toMap(p -> p.getAttributes().get(AttributeKey.stringKey("gen_ai.token.type")),
                        Function.identity()));
        assertEquals(2, byType.size());
        HistogramPointData input = byType.get("input");
        assertEquals(2, input.getCount());
        assertEquals(1210.0, input.getSum());
        assertEquals(List.of(1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0,
                1048576.0, 4194304.0, 16777216.0, 67108864.0), input.getBoundaries());
        // 10 falls in (4, 16], 1200 in (1024, 4096]
        assertEquals(1L, input.getCounts().get(2));
        assertEquals(1L, input.getCounts().get(6));
        assertEquals(302.0, byType.get("output").getSum());
        assertEquals(Attributes.builder()
                .put("gen_ai.operation.name", "chat")
                .put("gen_ai.provider.name", "openai")
                .put("gen_ai.request.model", "gpt-4o")
                .put("gen_ai.response.model", "gpt-4o-2024-08-06")
                .put("server.address", "api.openai.com")
                .put("server.port", 443L)
                .put("gen_ai.token.type", "output")
                .build().asMap(), byType.get("output").getAttributes().asMap());
    }

    @Test
    void durationHistogramInSecondsWithErrorTypeOnlyWhenFailed() {
        telemetry.record(fullCall().build());
        telemetry.record(fullCall().times(START, START.plus(Duration.ofMillis(250))).build());
        telemetry.record(fullCall().error(new IllegalStateException()).times(START, START.plusMillis(50)).build());

        MetricData duration = metric("gen_ai.client.operation.duration");
        assertEquals("s", duration.getUnit());
        Collection<HistogramPointData> points = duration.getHistogramData().getPoints();
        assertEquals(2, points.size());
        HistogramPointData ok = points.stream()
                .filter(p -> p.getAttributes().get(AttributeKey.stringKey("error.type")) == null).findFirst().orElseThrow();
        HistogramPointData failed = points.stream()
                .filter(p -> p.getAttributes().get(AttributeKey.stringKey("error.type")) != null).findFirst().orElseThrow();
        assertEquals(2, ok.getCount());
        assertEquals(1.75, ok.getSum(), 1e-9);
        assertEquals(List.of(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92),
                ok.getBoundaries());
        assertEquals(1L, ok.getCounts().get(5), "0.25 s falls in (0.16, 0.32]");
        assertEquals(1L, ok.getCounts().get(8), "1.5 s falls in (1.28, 2.56]");
        assertEquals(1, failed.getCount());
        assertEquals("java.lang.IllegalStateException", failed.getAttributes().get(AttributeKey.stringKey("error.type")));
        assertEquals(0.05, failed.getSum(), 1e-9);
    }

    @Test
    void refusedCallRecordsNoTokensButADurationWithErrorType() {
        telemetry.record(GenAiCall.builder("openai", "chat").requestModel("gpt-4o").refused().times(START, START).build());

        Map<String, MetricData> byName = metricsByName();
        assertFalse(byName.containsKey("gen_ai.client.token.usage"));
        HistogramPointData point = byName.get("gen_ai.client.operation.duration").getHistogramData().getPoints()
                .iterator().next();
        assertEquals(GenAiCall.REFUSED_ERROR_TYPE, point.getAttributes().get(AttributeKey.stringKey("error.type")));
    }

    @Test
    void callRecordRejectsMissingNamesAndReversedTimes() {
        IllegalArgumentException noProvider = assertThrows(IllegalArgumentException.class,
                () -> GenAiCall.builder(" ", "chat").times(START, END).build());
        assertTrue(noProvider.getMessage().contains("provider") && noProvider.getMessage().contains("' '"));
        IllegalArgumentException reversed = assertThrows(IllegalArgumentException.class,
                () -> GenAiCall.builder("openai", "chat").times(END, START).build());
        assertTrue(reversed.getMessage().contains(END.toString()), reversed.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BudgetWarning("default", 1.5, 1L, 1L));
    }

    private SpanData onlySpan() {
        List<SpanData> finished = spans.getFinishedSpanItems();
        assertEquals(1, finished.size(), () -> "spans: " + finished);
        return finished.get(0);
    }

    private Map<String, MetricData> metricsByName() {
        return metrics.collectAllMetrics().stream().collect(Collectors.toMap(MetricData::getName, Function.identity()));
    }

    private MetricData metric(String name) {
        MetricData data = metricsByName().get(name);
        assertTrue(data != null, () -> "no metric " + name);
        return data;
    }

    private static long epochNanos(Instant instant) {
        return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }
}
