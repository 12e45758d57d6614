package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.otel.OtlpGrpcReceiver;
import dev.tokenguard.otel.OtlpReceiver;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spans and metrics of a forked JVM, received as real OTLP/HTTP protobuf by a loopback receiver. */
class OtelExportIT {
    static final String APP = "dev.tokenguard.it.app.ScenarioApp";

    @TempDir
    Path work;
    FakeOpenAiServer server;
    OtlpReceiver receiver;

    @BeforeEach
    void start() throws Exception {
        server = FakeOpenAiServer.start();
        receiver = new OtlpReceiver();
    }

    @AfterEach
    void stop() {
        server.close();
        receiver.close();
    }

    List<String> otelOptions() {
        return List.of("-Dotel.exporter.otlp.endpoint=" + receiver.endpoint(), "-Dotel.service.name=scenario-app",
                "-Dotel.metric.export.interval=5000", "-Dotel.bsp.schedule.delay=200");
    }

    List<Span> spans() {
        List<Span> spans = new ArrayList<>();
        for (ExportTraceServiceRequest request : receiver.traces) {
            request.getResourceSpansList().forEach(rs -> rs.getScopeSpansList()
                    .forEach(ss -> spans.addAll(ss.getSpansList())));
        }
        return spans;
    }

    static Map<String, AnyValue> attributes(List<KeyValue> keyValues) {
        return keyValues.stream().collect(Collectors.toMap(KeyValue::getKey, KeyValue::getValue, (a, b) -> b));
    }

    static String hex(com.google.protobuf.ByteString bytes) {
        return HexFormat.of().formatHex(bytes.toByteArray());
    }

    static List<String> sorted(List<String> lines) {
        return lines.stream().sorted().toList();
    }

    /** The running JDK's version as the agent's start-up line names it, e.g. {@code 17.0.15}. */
    static String jdkVersion() {
        return Runtime.version().version().stream().map(String::valueOf).collect(Collectors.joining("."));
    }

    static String describe(Span span) {
        return span.getName() + " trace=" + hex(span.getTraceId()) + " id=" + hex(span.getSpanId()) + " parent="
                + hex(span.getParentSpanId());
    }

    @Test
    void everyCallAndRefusalIsASpanWithTheGenAiAttributesAndTheTokenMetricsAddUp() throws Exception {
        List<String> args = List.of("sync", server.baseUrl(), "100");
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.max-tokens=900", otelOptions(), Map.of(), APP,
                args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
        // openai-java runs on OkHttp, and the OTLP http/protobuf export goes over the JDK's HTTP client: both are
        // governed layers too (none of the export requests is to an LLM endpoint, so none is charged)
        assertEquals(sorted(List.of("[tokenguard] TokenGuard: governing jdk-http-client " + jdkVersion(),
                "[tokenguard] TokenGuard: governing openai-java 4.101.0", ForkedJvm.GOVERNING_OKHTTP)),
                sorted(result.agentLines()));
        int served = server.requestCount();
        assertTrue(served > 0, result::toString);
        assertEquals(served, result.lines("OK ").size(), result::toString);
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);

        List<Span> spans = spans();
        List<Span> ok = spans.stream().filter(s -> s.getStatus().getCode() != Status.StatusCode.STATUS_CODE_ERROR)
                .toList();
        List<Span> refused = spans.stream()
                .filter(s -> s.getStatus().getCode() == Status.StatusCode.STATUS_CODE_ERROR).toList();
        assertEquals(served, ok.size(), spans::toString);
        assertEquals(3, refused.size());
        long input = 0;
        long output = 0;
        int warnings = 0;
        for (Span span : ok) {
            assertEquals("chat gpt-4o-mini", span.getName());
            assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, span.getKind());
            Map<String, AnyValue> a = attributes(span.getAttributesList());
            assertEquals("chat", a.get("gen_ai.operation.name").getStringValue());
            assertEquals("openai", a.get("gen_ai.provider.name").getStringValue());
            assertEquals("gpt-4o-mini", a.get("gen_ai.request.model").getStringValue());
            assertEquals("gpt-4o-mini-2024-07-18", a.get("gen_ai.response.model").getStringValue());
            assertEquals("127.0.0.1", a.get("server.address").getStringValue());
            assertEquals(server.port(), a.get("server.port").getIntValue());
            assertEquals("default", a.get("tokenguard.budget.name").getStringValue());
            assertEquals(900, a.get("tokenguard.budget.limit_tokens").getIntValue());
            assertFalse(a.containsKey("gen_ai.system"), "gen_ai.system is deprecated");
            input += a.get("gen_ai.usage.input_tokens").getIntValue();
            output += a.get("gen_ai.usage.output_tokens").getIntValue();
            warnings += (int) span.getEventsList().stream()
                    .filter(e -> e.getName().equals("tokenguard.budget.warning")).count();
            assertTrue(span.getEndTimeUnixNano() >= span.getStartTimeUnixNano());
        }
        assertEquals(server.totalInputTokens(), input);
        assertEquals(server.totalOutputTokens(), output);
        assertEquals(3, warnings);
        for (Span span : refused) {
            assertEquals("dev.tokenguard.api.BudgetExhaustedException",
                    attributes(span.getAttributesList()).get("error.type").getStringValue());
        }

        // each JSONL call names its exported span: the same span id and the same trace id
        Map<String, String> traceBySpan = ok.stream()
                .collect(Collectors.toMap(s -> hex(s.getSpanId()), s -> hex(s.getTraceId())));
        assertEquals(served, traceBySpan.size(), "span ids are distinct");
        List<JsonNode> calls = SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call");
        assertEquals(served, calls.size());
        Set<String> named = new java.util.HashSet<>();
        for (JsonNode call : calls) {
            String spanId = call.get("span_id").asText();
            assertTrue(traceBySpan.containsKey(spanId), "JSONL span ids are the exported ones: " + call);
            assertEquals(traceBySpan.get(spanId), call.get("trace_id").asText(), call.toString());
            named.add(spanId);
        }
        assertEquals(traceBySpan.keySet(), named, "every exported call span is named by one JSONL line");

        // the call site: the scenario app's method and line that called the SDK, in the JSONL and on the span
        int line = markedLine("call-site: syncChat");
        for (JsonNode call : calls) {
            assertEquals("dev.tokenguard.it.app.ScenarioApp.syncChat:" + line, call.get("call_site").asText(),
                    call.toString());
        }
        for (Span span : spans) {
            Map<String, AnyValue> a = attributes(span.getAttributesList());
            assertEquals("dev.tokenguard.it.app.ScenarioApp.syncChat", a.get("code.function.name").getStringValue(),
                    describe(span));
            assertEquals(line, a.get("code.line.number").getIntValue(), describe(span));
        }
        List<JsonNode> refusals = SessionLogs.read(work.resolve("tokenguard-sessions")).of("budget_exceeded");
        assertEquals(3, refusals.size());
        for (JsonNode refusal : refusals) {
            assertEquals("dev.tokenguard.it.app.ScenarioApp.syncChat:" + line, refusal.get("call_site").asText());
        }

        Map<String, Long> tokenSums = new java.util.HashMap<>();
        // cumulative temporality: each attribute set's latest count is its largest
        Map<Map<String, AnyValue>, Long> durationCounts = new java.util.HashMap<>();
        Map<Map<String, AnyValue>, Long> budgetCounts = new java.util.HashMap<>();
        for (var request : receiver.metrics) {
            for (var rm : request.getResourceMetricsList()) {
                for (var sm : rm.getScopeMetricsList()) {
                    for (Metric metric : sm.getMetricsList()) {
                        if (metric.getName().equals("gen_ai.client.token.usage")) {
                            assertEquals("{token}", metric.getUnit());
                            for (HistogramDataPoint p : metric.getHistogram().getDataPointsList()) {
                                String type = attributes(p.getAttributesList()).get("gen_ai.token.type")
                                        .getStringValue();
                                tokenSums.merge(type, (long) p.getSum(), Math::max);
                            }
                        } else if (metric.getName().equals("gen_ai.client.operation.duration")) {
                            assertEquals("s", metric.getUnit());
                            for (HistogramDataPoint p : metric.getHistogram().getDataPointsList()) {
                                durationCounts.merge(attributes(p.getAttributesList()), p.getCount(), Math::max);
                            }
                        } else if (metric.getName().equals("tokenguard.budget.warnings")
                                || metric.getName().equals("tokenguard.budget.refusals")) {
                            assertTrue(metric.getSum().getIsMonotonic(), metric.getName());
                            for (var p : metric.getSum().getDataPointsList()) {
                                Map<String, AnyValue> a = new java.util.HashMap<>(attributes(p.getAttributesList()));
                                a.put("metric", AnyValue.newBuilder().setStringValue(metric.getName()).build());
                                budgetCounts.merge(a, p.getAsInt(), Math::max);
                            }
                        }
                    }
                }
            }
        }
        assertEquals(server.totalInputTokens(), tokenSums.get("input"), "cumulative input token histogram sum");
        assertEquals(server.totalOutputTokens(), tokenSums.get("output"));
        long okDurations = durationCounts.entrySet().stream().filter(e -> !e.getKey().containsKey("error.type"))
                .mapToLong(Map.Entry::getValue).sum();
        long refusedDurations = durationCounts.entrySet().stream()
                .filter(e -> e.getKey().containsKey("error.type")).mapToLong(Map.Entry::getValue).sum();
        assertEquals(served, okDurations, "one duration per served call: " + durationCounts);
        assertEquals(3, refusedDurations, "one duration per refused call: " + durationCounts);
        // three thresholds crossed once each (one attribute set per threshold) and three refusals (one set), all
        // of the default budget's thread scope
        assertEquals(4, budgetCounts.size(), budgetCounts::toString);
        long warningCount = 0;
        long refusalCount = 0;
        for (Map.Entry<Map<String, AnyValue>, Long> e : budgetCounts.entrySet()) {
            assertEquals("default", e.getKey().get("tokenguard.budget.name").getStringValue());
            assertEquals("thread", e.getKey().get("tokenguard.budget.scope.kind").getStringValue());
            if (e.getKey().get("metric").getStringValue().equals("tokenguard.budget.warnings")) {
                warningCount += e.getValue();
            } else {
                assertEquals("tokenguard.budget.refusals", e.getKey().get("metric").getStringValue());
                refusalCount += e.getValue();
            }
        }
        assertEquals(3, warningCount, budgetCounts::toString);
        assertEquals(3, refusalCount, budgetCounts::toString);
    }

    /** The line of the scenario app's source that carries {@code marker} (in a comment), counted from 1. */
    static int markedLine(String marker) throws java.io.IOException {
        List<String> source = Files.readAllLines(Path.of("src/test/java/dev/tokenguard/it/app/ScenarioApp.java"));
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i < source.size(); i++) {
            if (source.get(i).contains("// " + marker)) {
                found.add(i + 1);
            }
        }
        assertEquals(1, found.size(), "one line marked " + marker);
        return found.get(0);
    }

    @Test
    void budgetUtilizationIsAGaugeOfTheMostUsedScopesOnlyBesideWarningAndRefusalCounters() throws Exception {
        // 8 tenants on an mdc: budget, tenant t<k> making k + 1 calls; the gauge may report 3 scopes
        int tenants = 8;
        int reported = 3;
        List<String> args = List.of("tenants", server.baseUrl(), "0", String.valueOf(tenants));
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.scope=mdc:tenant,budget.max-tokens=2000,"
                + "otel.budget-scopes=" + reported, otelOptions(), Map.of(), APP, args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
        int calls = tenants * (tenants + 1) / 2;
        assertEquals(calls, server.requestCount());
        assertEquals(calls, result.lines("OK ").size(), result::toString);

        // the oracle: the fake server's own ledger, in arrival order (the app calls one tenant after the other)
        List<dev.tokenguard.sample.stub.RecordedRequest> requests = server.requests();
        assertEquals(calls, requests.size());
        Map<String, Long> tokensByScope = new java.util.HashMap<>();
        int next = 0;
        for (int k = 0; k < tenants; k++) {
            for (int c = 0; c <= k; c++) {
                tokensByScope.merge("mdc:tenant=t" + k, requests.get(next++).usage().totalTokens(), Long::sum);
            }
        }
        List<String> expectedTop = tokensByScope.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(reported)
                .map(Map.Entry::getKey).sorted().toList();

        // the last export that carries the gauge (the final one, at shutdown) reports exactly the 3 most used
        Map<String, Double> lastGauge = null;
        for (var request : receiver.metrics) {
            for (var rm : request.getResourceMetricsList()) {
                for (var sm : rm.getScopeMetricsList()) {
                    for (Metric metric : sm.getMetricsList()) {
                        if (metric.getName().equals("tokenguard.budget.utilization")) {
                            assertEquals("1", metric.getUnit());
                            Map<String, Double> points = new java.util.HashMap<>();
                            for (var p : metric.getGauge().getDataPointsList()) {
                                Map<String, AnyValue> a = attributes(p.getAttributesList());
                                assertEquals("default", a.get("tokenguard.budget.name").getStringValue());
                                assertEquals("mdc", a.get("tokenguard.budget.scope.kind").getStringValue());
                                points.put(a.get("tokenguard.budget.scope").getStringValue(), p.getAsDouble());
                            }
                            lastGauge = points;
                        }
                    }
                }
            }
        }
        assertTrue(lastGauge != null, "the utilization gauge was exported: " + receiver.metrics.size() + " exports");
        assertEquals(reported, lastGauge.size(), lastGauge::toString);
        assertEquals(expectedTop, lastGauge.keySet().stream().sorted().toList());
        for (String scope : expectedTop) {
            assertEquals(tokensByScope.get(scope) / 2000.0, lastGauge.get(scope), 1e-9, scope);
        }
    }

    @Test
    void spansArriveOverOtlpGrpcThroughTheAgentsRelocatedOkHttpBesideTheAppsOwn() throws Exception {
        try (OtlpGrpcReceiver grpc = new OtlpGrpcReceiver()) {
            List<String> options = List.of("-Dotel.exporter.otlp.protocol=grpc",
                    "-Dotel.exporter.otlp.endpoint=" + grpc.endpoint(), "-Dotel.service.name=scenario-app",
                    "-Dotel.metric.export.interval=5000", "-Dotel.bsp.schedule.delay=200");
            // the app's openai-java calls go over its own (unrelocated) OkHttp, the export over the agent's
            ForkedJvm.Result result = ForkedJvm.run(work, "", options, Map.of(), APP, "sync", server.baseUrl(), "6");
            assertEquals(0, result.exitCode(), result::toString);
            assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java 4.101.0", ForkedJvm.GOVERNING_OKHTTP),
                    result.agentLines(),
                    result::toString);
            assertEquals(6, server.requestCount());
            assertEquals(6, result.lines("OK ").size(), result::toString);

            List<Span> spans = grpc.traces.stream().flatMap(request -> request.getResourceSpansList().stream())
                    .flatMap(rs -> rs.getScopeSpansList().stream()).flatMap(ss -> ss.getSpansList().stream())
                    .toList();
            assertEquals(6, spans.size(), spans::toString);
            long input = 0;
            long output = 0;
            for (Span span : spans) {
                assertEquals("chat gpt-4o-mini", span.getName());
                Map<String, AnyValue> a = attributes(span.getAttributesList());
                assertEquals("openai", a.get("gen_ai.provider.name").getStringValue());
                input += a.get("gen_ai.usage.input_tokens").getIntValue();
                output += a.get("gen_ai.usage.output_tokens").getIntValue();
            }
            assertTrue(server.totalInputTokens() > 0 && server.totalOutputTokens() > 0);
            assertEquals(server.totalInputTokens(), input);
            assertEquals(server.totalOutputTokens(), output);
            assertTrue(receiver.traces.isEmpty() && receiver.metrics.isEmpty(), "nothing went to the HTTP receiver");
        }
    }

    @Test
    void theLlmSpanIsAChildOfTheAppsOwnSpan() throws Exception {
        List<String> args = List.of("otel-parent", server.baseUrl(), "2");
        ForkedJvm.Result result = ForkedJvm.run(work, "", otelOptions(), Map.of(), APP, args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result::toString);
        String[] app = result.lines("APP_SPAN ").get(0).split(" ");
        assertFalse(app[1].matches("0+"), result::toString);
        assertEquals(2, result.lines("OK ").size(), result::toString);
        List<Span> spans = spans();
        assertEquals(2, spans.size(), spans::toString);
        for (Span span : spans) {
            assertEquals(app[1], hex(span.getTraceId()));
            assertEquals(app[2], hex(span.getParentSpanId()));
        }
        List<JsonNode> calls = SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call");
        assertEquals(2, calls.size());
        assertEquals(spans.stream().map(s -> hex(s.getSpanId())).collect(Collectors.toSet()),
                calls.stream().map(c -> c.get("span_id").asText()).collect(Collectors.toSet()));
        for (JsonNode call : calls) {
            assertEquals(app[1], call.get("trace_id").asText(), "the JSONL line names the app's trace: " + call);
        }
    }

    @Test
    void besideTheOpenTelemetryJavaAgentBothWorkAndTheSpansShareTheTrace() throws Exception {
        Path otelAgent = Path.of(System.getProperty("tokenguard.otel.javaagent"));
        assertTrue(Files.isRegularFile(otelAgent), otelAgent::toString);
        Path sampleJar = Path.of(System.getProperty("tokenguard.sample.jar")).toAbsolutePath();
        List<String> options = new ArrayList<>(List.of("-javaagent:" + otelAgent, "-Dotel.metrics.exporter=none",
                "-Dotel.logs.exporter=none"));
        options.addAll(otelOptions());
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(work, "budget.max-tokens=100000", options, Map.of(),
                sampleJar.toString(), "dev.tokenguard.sample.SampleApp", "--tickets", "2");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(sorted(List.of("[tokenguard] TokenGuard: governing jdk-http-client " + jdkVersion(),
                "[tokenguard] TokenGuard: governing openai-java", ForkedJvm.GOVERNING_OKHTTP)), sorted(result.agentLines()));

        List<Span> spans = spans();
        List<Span> ours = spans.stream().filter(s -> attributes(s.getAttributesList())
                .containsKey("tokenguard.budget.name")).toList();
        List<Span> theirs = spans.stream().filter(s -> !attributes(s.getAttributesList())
                .containsKey("tokenguard.budget.name")).toList();
        // tickets 1 and 2 are a chat call and a chat stream: both agents instrument those
        assertEquals(2, ours.size(), spans::toString);
        assertFalse(theirs.isEmpty(), "the OpenTelemetry agent exports its own spans too");
        Map<String, Span> theirsById = theirs.stream().collect(Collectors.toMap(s -> hex(s.getSpanId()), s -> s));
        for (Span span : ours) {
            Span parent = theirsById.get(hex(span.getParentSpanId()));
            assertTrue(parent != null, "our span's parent is one of the OpenTelemetry agent's spans: "
                    + describe(span) + " among " + spans.stream().map(OtelExportIT::describe).toList() + "\n" + result);
            assertEquals(hex(parent.getTraceId()), hex(span.getTraceId()));
        }
    }
}
