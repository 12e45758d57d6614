package dev.tokenguard.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class OtelSetupTest {

    private static final Instant START = Instant.parse("2026-03-01T10:15:30Z");

    @Test
    void withoutAnEndpointEverythingIsANoOpAndNoThreadStarts() {
        java.util.Set<Thread> exportThreadsBefore = exportThreads();
        OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.service.name", "billing"),
                Map.of("OTEL_TRACES_SAMPLER", "always_on"));

        assertFalse(setup.enabled());
        assertEquals(Optional.empty(), setup.problem());
        assertSame(OpenTelemetry.noop(), setup.start());
        assertEquals(Optional.empty(), new GenAiTelemetry(setup.start()).record(call()));
        java.util.Set<Thread> started = exportThreads();
        started.removeAll(exportThreadsBefore);
        assertEquals(java.util.Set.of(), started, "no export thread started");
        assertTrue(setup.shutdown(Duration.ofSeconds(1)));
    }

    @Test
    void blankEndpointsCountAsUnsetAndSdkDisabledWins() {
        assertFalse(OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", " "),
                Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")).enabled());
        assertFalse(OtelSetup.fromEnvironment(Map.of("otel.sdk.disabled", "true"),
                Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")).enabled());
    }

    @Test
    void environmentVariablesEnableExportAndSystemPropertiesWinOverThem() {
        OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.service.name", "from-property"),
                Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_SERVICE_NAME", "from-env",
                        "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test", "PATH", "/bin"));

        assertTrue(setup.enabled());
        Map<String, String> properties = setup.properties();
        assertEquals("http://collector:4318", properties.get("otel.exporter.otlp.endpoint"));
        assertEquals("from-property", properties.get("otel.service.name"));
        assertEquals("deployment.environment=test", properties.get("otel.resource.attributes"));
        assertFalse(properties.containsKey("path"), "only OTEL_ variables are read");
    }

    @Test
    void safeDefaultsApplyOnlyWhereTheUserSaidNothing() {
        Map<String, String> defaults = OtelSetup.fromEnvironment(
                Map.of("otel.exporter.otlp.endpoint", "http://collector:4318"), Map.of()).properties();
        assertEquals("http/protobuf", defaults.get("otel.exporter.otlp.protocol"));
        assertEquals("none", defaults.get("otel.logs.exporter"));
        assertEquals("5000", defaults.get("otel.exporter.otlp.timeout"));
        assertEquals("1000", defaults.get("otel.bsp.schedule.delay"));
        assertFalse(defaults.containsKey("otel.traces.exporter"));
        assertFalse(defaults.containsKey("otel.metrics.exporter"));

        Map<String, String> chosen = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint",
                "http://collector:4318", "otel.logs.exporter", "otlp"), Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "700"))
                .properties();
        assertEquals("otlp", chosen.get("otel.logs.exporter"));
        assertEquals("700", chosen.get("otel.exporter.otlp.timeout"));
    }

    @Test
    void aSignalWithoutAnEndpointOfItsOwnIsNotExported() {
        Map<String, String> tracesOnly = OtelSetup.fromEnvironment(
                Map.of("otel.exporter.otlp.traces.endpoint", "http://collector:4318/v1/traces"), Map.of()).properties();
        assertEquals("none", tracesOnly.get("otel.metrics.exporter"));
        assertFalse(tracesOnly.containsKey("otel.traces.exporter"));

        Map<String, String> metricsOnly = OtelSetup.fromEnvironment(Map.of(),
                Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:4318/v1/metrics")).properties();
        assertEquals("none", metricsOnly.get("otel.traces.exporter"));
    }

    @Test
    void grpcIsSupportedAndHttpJsonIsRefusedWithAMessageThatSaysWhatToSet() {
        OtelSetup grpc = OtelSetup.fromEnvironment(Map.of(), Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"));
        assertTrue(grpc.enabled());
        assertEquals(Optional.empty(), grpc.problem());
        assertEquals("grpc", grpc.properties().get("otel.exporter.otlp.protocol"));

        OtelSetup json = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.traces.protocol", "http/json"),
                Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"));
        assertFalse(json.enabled());
        String problem = json.problem().orElseThrow();
        assertTrue(problem.contains("otel.exporter.otlp.traces.protocol=http/json"), problem);
        assertTrue(problem.contains("http/protobuf") && problem.contains("grpc")
                && problem.contains("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), problem);
        assertSame(OpenTelemetry.noop(), json.start());
    }

    @Test
    void theJdkSenderIsTheOnlyHttpSenderTheSdkIsOfferedWhileOkHttpStaysForGrpc() {
        ComponentLoader classPath = ComponentLoader.forClassLoader(OtelSetup.class.getClassLoader());
        List<String> allHttp = names(classPath.load(HttpSenderProvider.class));
        assertEquals(2, allHttp.size(), "both HTTP senders are on this class path: " + allHttp);

        ComponentLoader chosen = new OtelSetup.JdkHttpSenderOnly(classPath);
        assertEquals(List.of(JdkHttpSenderProvider.class.getName()), names(chosen.load(HttpSenderProvider.class)));
        assertEquals(List.of("io.opentelemetry.exporter.sender.okhttp.internal.OkHttpGrpcSenderProvider"),
                names(chosen.load(GrpcSenderProvider.class)));
    }

    @Test
    void aConfigurationTheSdkRejectsTurnsExportOffWithTheReason() {
        OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", "http://collector:4318",
                "otel.traces.sampler", "sometimes"), Map.of());

        assertSame(OpenTelemetry.noop(), setup.start());
        String problem = setup.problem().orElseThrow();
        assertTrue(problem.contains("sometimes"), problem);
    }

    @Test
    void rejectedHeadersNeverShowTheirValues() {
        for (String headers : List.of("authorization=Bearer%zzs3cr3t", "api-key-s3cr3t", "x-api-key=s3cr3t,broken")) {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of(),
                    Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_EXPORTER_OTLP_HEADERS", headers));
            setup.start(ignored -> { });
            String problem = setup.problem().orElseThrow();
            assertTrue(problem.contains("header"), problem);
            assertFalse(problem.contains("s3cr3t"), problem);
        }
    }

    @Test
    void anEndpointThatIsDownNeitherBreaksRecordNorShutdown() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        OtelSetup setup = OtelSetup.fromEnvironment(Map.of(
                "otel.exporter.otlp.endpoint", "http://127.0.0.1:" + closedPort,
                "otel.bsp.schedule.delay", "1",
                // without retries the first failure is logged at once instead of after ~5 s of backoff
                "otel.java.exporter.otlp.retry.disabled", "true"), Map.of());
        List<String> reports = new CopyOnWriteArrayList<>();
        OpenTelemetry otel = setup.start(reports::add);
        GenAiTelemetry telemetry = new GenAiTelemetry(otel);

        for (int i = 0; i < 50; i++) {
            assertTrue(telemetry.record(call()).isPresent());
        }
        for (int wait = 0; wait < 100 && reports.isEmpty(); wait++) {
            sleep(100);
        }
        // returns within the bound even though the SDK's own shutdown may still be retrying
        setup.shutdown(Duration.ofMillis(300));
        assertEquals(0, telemetry.failures());
        assertEquals(1, reports.size(), reports::toString);
        assertTrue(reports.get(0).contains("Failed to export"), reports.get(0));
    }

    @Test
    void spansAndMetricsArriveAsOtlpHttpProtobufAndTheSdkIsNotGlobal() throws IOException {
        try (OtlpReceiver receiver = new OtlpReceiver()) {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.service.name", "billing"),
                    Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
                            "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"));
            List<String> reports = new CopyOnWriteArrayList<>();
            OpenTelemetry otel = setup.start(reports::add);
            assertSame(otel, setup.start(), "start() builds once");
            // never registered as GlobalOpenTelemetry: what the app reaches through the global stays a no-op
            // (GlobalOpenTelemetry.get() returns a wrapper, so identity says nothing; behaviour does)
            io.opentelemetry.api.trace.Span appSpan = GlobalOpenTelemetry.getTracer("the-app")
                    .spanBuilder("app work").startSpan();
            assertFalse(appSpan.getSpanContext().isValid(), "the global tracer is the no-op one");
            assertFalse(appSpan.isRecording());
            appSpan.end();
            GenAiTelemetry telemetry = new GenAiTelemetry(otel);

            SpanIds ids = telemetry.record(GenAiCall.builder("openai", "chat")
                    .requestModel("gpt-4o").inputTokens(120L).outputTokens(30L)
                    .times(START, START.plusMillis(800))
                    .budget(new BudgetInfo("default", "thread:main#1", 150L, 1000L))
                    .warning(new BudgetWarning("default", 0.75, 800L, 1000L))
                    .parent(new ParentSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", (byte) 1, true))
                    .build()).orElseThrow();
            assertTrue(setup.shutdown(Duration.ofSeconds(5)), "flushed in time");

            assertEquals(1, receiver.traces.size());
            List<String> exported = receiver.traces.stream()
                    .flatMap(request -> request.getResourceSpansList().stream())
                    .flatMap(rs -> rs.getScopeSpansList().stream())
                    .flatMap(ss -> ss.getSpansList().stream()).map(Span::getName).toList();
            assertEquals(List.of("chat gpt-4o"), exported, "the app's span made through the global never reaches us");
            assertEquals(receiver.traces.size() + receiver.metrics.size(), receiver.contentTypes.size());
            assertTrue(receiver.contentTypes.stream().allMatch("application/x-protobuf"::equals), receiver.contentTypes.toString());
            var resourceSpans = receiver.traces.get(0).getResourceSpans(0);
            Map<String, AnyValue> resource = toMap(resourceSpans.getResource().getAttributesList());
            assertEquals("billing", resource.get("service.name").getStringValue());
            assertEquals("test", resource.get("deployment.environment").getStringValue());
            Span span = resourceSpans.getScopeSpans(0).getSpans(0);
            assertEquals("chat gpt-4o", span.getName());
            assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, span.getKind());
            assertEquals(ids.traceId(), hex(span.getTraceId().toByteArray()));
            assertEquals(ids.spanId(), hex(span.getSpanId().toByteArray()));
            assertEquals("00f067aa0ba902b7", hex(span.getParentSpanId().toByteArray()));
            assertEquals(800_000_000L, span.getEndTimeUnixNano() - span.getStartTimeUnixNano());
            Map<String, AnyValue> attributes = toMap(span.getAttributesList());
            assertEquals("openai", attributes.get("gen_ai.provider.name").getStringValue());
            assertEquals(120L, attributes.get("gen_ai.usage.input_tokens").getIntValue());
            assertEquals(1000L, attributes.get("tokenguard.budget.limit_tokens").getIntValue());
            assertEquals("tokenguard.budget.warning", span.getEvents(0).getName());
            assertEquals(0.75, toMap(span.getEvents(0).getAttributesList()).get("tokenguard.budget.threshold").getDoubleValue());

            Map<String, Metric> metrics = receiver.metrics.stream()
                    .flatMap(request -> request.getResourceMetricsList().stream())
                    .flatMap(resourceMetrics -> resourceMetrics.getScopeMetricsList().stream())
                    .flatMap(scope -> scope.getMetricsList().stream())
                    .collect(Collectors.toMap(Metric::getName, metric -> metric, (a, b) -> b));
            Metric usage = metrics.get("gen_ai.client.token.usage");
            assertEquals("{token}", usage.getUnit());
            assertEquals(2, usage.getHistogram().getDataPointsCount());
            assertEquals(14, usage.getHistogram().getDataPoints(0).getExplicitBoundsCount());
            Metric duration = metrics.get("gen_ai.client.operation.duration");
            assertEquals("s", duration.getUnit());
            assertEquals(0.8, duration.getHistogram().getDataPoints(0).getSum(), 1e-9);
            assertEquals(List.of(), reports, "no SDK warning, e.g. about two HTTP senders to choose from");
        }
    }

    @Test
    void spansAndMetricsArriveAsOtlpGrpc() throws IOException {
        try (OtlpGrpcReceiver receiver = new OtlpGrpcReceiver()) {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.service.name", "billing",
                    "otel.exporter.otlp.protocol", "grpc", "otel.exporter.otlp.endpoint", receiver.endpoint()),
                    Map.of());
            List<String> reports = new CopyOnWriteArrayList<>();
            GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(reports::add));

            SpanIds ids = telemetry.record(GenAiCall.builder("anthropic", "chat")
                    .requestModel("claude-sonnet-4").inputTokens(700L).outputTokens(45L)
                    .times(START, START.plusMillis(1500))
                    .budget(new BudgetInfo("default", "thread:main#1", 745L, 5000L))
                    .build()).orElseThrow();
            assertTrue(setup.shutdown(Duration.ofSeconds(5)), "flushed in time");

            assertTrue(receiver.methods.contains("opentelemetry.proto.collector.trace.v1.TraceService/Export"),
                    receiver.methods.toString());
            assertTrue(receiver.methods.contains("opentelemetry.proto.collector.metrics.v1.MetricsService/Export"),
                    receiver.methods.toString());
            assertEquals(1, receiver.traces.size());
            var resourceSpans = receiver.traces.get(0).getResourceSpans(0);
            assertEquals("billing", toMap(resourceSpans.getResource().getAttributesList())
                    .get("service.name").getStringValue());
            Span span = resourceSpans.getScopeSpans(0).getSpans(0);
            assertEquals("chat claude-sonnet-4", span.getName());
            assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, span.getKind());
            assertEquals(ids.spanId(), hex(span.getSpanId().toByteArray()));
            Map<String, AnyValue> attributes = toMap(span.getAttributesList());
            assertEquals("anthropic", attributes.get("gen_ai.provider.name").getStringValue());
            assertEquals(700L, attributes.get("gen_ai.usage.input_tokens").getIntValue());
            assertEquals(45L, attributes.get("gen_ai.usage.output_tokens").getIntValue());
            assertEquals(5000L, attributes.get("tokenguard.budget.limit_tokens").getIntValue());

            Map<String, Metric> metrics = receiver.metrics.stream()
                    .flatMap(request -> request.getResourceMetricsList().stream())
                    .flatMap(resourceMetrics -> resourceMetrics.getScopeMetricsList().stream())
                    .flatMap(scope -> scope.getMetricsList().stream())
                    .collect(Collectors.toMap(Metric::getName, metric -> metric, (a, b) -> b));
            assertTrue(metrics.keySet().containsAll(
                    List.of("gen_ai.client.token.usage", "gen_ai.client.operation.duration")), metrics.keySet()::toString);
            double tokens = metrics.get("gen_ai.client.token.usage").getHistogram().getDataPointsList().stream()
                    .mapToDouble(point -> point.getSum()).sum();
            assertEquals(745.0, tokens, 1e-9);
            assertEquals(1.5, metrics.get("gen_ai.client.operation.duration").getHistogram().getDataPoints(0).getSum(),
                    1e-9);
            assertEquals(List.of(), reports, "no SDK warning");
        }
    }

    private static List<String> names(Iterable<?> providers) {
        List<String> names = new java.util.ArrayList<>();
        providers.forEach(provider -> names.add(provider.getClass().getName()));
        return names;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static GenAiCall call() {
        return GenAiCall.builder("openai", "chat").requestModel("gpt-4o").inputTokens(10L).outputTokens(5L)
                .times(START, START.plusMillis(100)).build();
    }

    /** The SDK's export threads alive now (other tests' SDKs may still be stopping: compare identities). */
    private static java.util.Set<Thread> exportThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().contains("BatchSpanProcessor") || t.getName().contains("PeriodicMetricReader"))
                .collect(Collectors.toSet());
    }

    private static Map<String, AnyValue> toMap(List<KeyValue> attributes) {
        Map<String, AnyValue> map = new HashMap<>();
        attributes.forEach(kv -> map.put(kv.getKey(), kv.getValue()));
        return map;
    }

    private static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        for (byte b : bytes) {
            out.append(String.format("%02x", b));
        }
        return out.toString();
    }
}
