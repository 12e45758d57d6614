package dev.tokenguard.otel;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The call site as {@code code.*} span attributes, and the budget metrics: counters and the utilization gauge. */
class BudgetMetricsTest {
    private static final Instant START = Instant.parse("2026-03-01T10:15:30Z");

    InMemorySpanExporter spans;
    InMemoryMetricReader metrics;
    OpenTelemetrySdk sdk;
    GenAiTelemetry telemetry;

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

    static MetricData metric(Collection<MetricData> all, String name) {
        List<MetricData> found = all.stream().filter(m -> m.getName().equals(name)).toList();
        assertEquals(1, found.size(), name + " in " + all);
        return found.get(0);
    }

    @Test
    void theCallSiteIsTheSpansCodeFunctionAndLine() {
        telemetry.record(GenAiCall.builder("openai", "chat").requestModel("gpt-4o").times(START, START.plusMillis(5))
                .code("com.acme.tickets.Summarizer.summarize", 88).build());
        telemetry.record(GenAiCall.builder("openai", "chat").requestModel("gpt-4o").times(START, START).build());
        List<SpanData> finished = spans.getFinishedSpanItems();
        assertEquals(2, finished.size());
        Attributes a = finished.get(0).getAttributes();
        assertEquals("com.acme.tickets.Summarizer.summarize", a.get(AttributeKey.stringKey("code.function.name")));
        assertEquals(88L, a.get(AttributeKey.longKey("code.line.number")));
        Attributes none = finished.get(1).getAttributes();
        assertFalse(none.asMap().keySet().stream().anyMatch(k -> k.getKey().startsWith("code.")), none.toString());
    }

    @Test
    void warningsAndRefusalsAreCountedPerBudgetScopeKindAndThreshold() {
        telemetry.record(GenAiCall.builder("openai", "chat").times(START, START)
                .warning(new BudgetWarning("default", 0.75, 760L, 1000L, "thread:main#1"))
                .warning(new BudgetWarning("default", 0.9, 910L, 1000L, "thread:main#1"))
                .warning(new BudgetWarning("tenants", 0.75, 80L, 100L, "mdc:tenant=acme")).build());
        telemetry.record(GenAiCall.builder("openai", "chat").times(START, START)
                .warning(new BudgetWarning("default", 0.75, 800L, 1000L, "thread:worker#2")).build());
        for (int i = 0; i < 3; i++) {
            telemetry.record(GenAiCall.builder("anthropic", "chat").refused().times(START, START)
                    .budget(new BudgetInfo("tenants", "mdc:tenant=acme", 101L, 100L)).build());
        }
        Collection<MetricData> all = metrics.collectAllMetrics();

        MetricData warnings = metric(all, "tokenguard.budget.warnings");
        assertTrue(warnings.getLongSumData().isMonotonic());
        Map<Attributes, Long> byAttributes = warnings.getLongSumData().getPoints().stream()
                .collect(Collectors.toMap(LongPointData::getAttributes, LongPointData::getValue));
        assertEquals(Map.of(
                warningAttributes("default", 0.75, "thread"), 2L,
                warningAttributes("default", 0.9, "thread"), 1L,
                warningAttributes("tenants", 0.75, "mdc"), 1L), byAttributes);

        MetricData refusals = metric(all, "tokenguard.budget.refusals");
        List<LongPointData> points = new ArrayList<>(refusals.getLongSumData().getPoints());
        assertEquals(1, points.size());
        assertEquals(3L, points.get(0).getValue());
        assertEquals(Attributes.builder().put("tokenguard.budget.name", "tenants")
                .put("tokenguard.budget.scope.kind", "mdc").put("gen_ai.provider.name", "anthropic").build(),
                points.get(0).getAttributes());
    }

    static Attributes warningAttributes(String budget, double threshold, String kind) {
        return Attributes.builder().put("tokenguard.budget.name", budget).put("tokenguard.budget.threshold", threshold)
                .put("tokenguard.budget.scope.kind", kind).build();
    }

    @Test
    void theUtilizationGaugeReportsWhatItsSourceGivesAtEachCollection() {
        List<BudgetUtilization> current = new CopyOnWriteArrayList<>(List.of(
                new BudgetUtilization("default", "mdc:tenant=acme", 0.8),
                new BudgetUtilization("default", "global", 0.25),
                new BudgetUtilization("default", "thread:main#1", 0.5)));
        telemetry.observeBudgets(() -> current);

        MetricData gauge = metric(metrics.collectAllMetrics(), "tokenguard.budget.utilization");
        assertEquals("1", gauge.getUnit());
        Map<String, Double> byScope = new java.util.HashMap<>();
        for (DoublePointData p : gauge.getDoubleGaugeData().getPoints()) {
            String scope = p.getAttributes().get(AttributeKey.stringKey("tokenguard.budget.scope"));
            assertEquals("default", p.getAttributes().get(AttributeKey.stringKey("tokenguard.budget.name")));
            assertEquals(BudgetScopes.kind(scope),
                    p.getAttributes().get(AttributeKey.stringKey("tokenguard.budget.scope.kind")));
            byScope.put(scope, p.getValue());
        }
        assertEquals(Map.of("mdc:tenant=acme", 0.8, "global", 0.25, "thread:main#1", 0.5), byScope);

        current.clear();
        current.add(new BudgetUtilization("default", "mdc:tenant=acme", 0.9));
        MetricData next = metric(metrics.collectAllMetrics(), "tokenguard.budget.utilization");
        assertEquals(1, next.getDoubleGaugeData().getPoints().size(), "only the scopes the source gives now");
        assertEquals(0.9, next.getDoubleGaugeData().getPoints().iterator().next().getValue());
    }

    @Test
    void scopeKindsFollowTheScopeKeys() {
        assertEquals("thread", BudgetScopes.kind("thread:worker-3#41"));
        assertEquals("mdc", BudgetScopes.kind("mdc:tenant=acme"));
        assertEquals("global", BudgetScopes.kind("global"));
        assertEquals("other", BudgetScopes.kind("custom"));
        assertEquals(null, BudgetScopes.kind(null));
    }
}
