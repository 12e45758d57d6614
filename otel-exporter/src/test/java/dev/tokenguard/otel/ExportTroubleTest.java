package dev.tokenguard.otel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** What the exporter does when the endpoint is in trouble: one line at shutdown, nothing else, no retry. */
class ExportTroubleTest {
    private static final Instant START = Instant.parse("2026-03-01T10:15:30Z");

    @Test
    void realOtlpResponsesAreWellFormedProtobufAndPagesOrTextAreNot() {
        assertTrue(ProtobufShape.isWellFormed(new byte[0]), "an all-default response is empty");
        assertTrue(ProtobufShape.isWellFormed(ExportTraceServiceResponse.newBuilder()
                .setPartialSuccess(ExportTracePartialSuccess.newBuilder().setRejectedSpans(3)
                        .setErrorMessage("too old")).build().toByteArray()));
        for (String junk : List.of("<html><body>Welcome to nginx!</body></html>", "not protobuf", "OK",
                "{\"partialSuccess\":{}}", "HTTP/1.1 200 OK")) {
            assertFalse(ProtobufShape.isWellFormed(junk.getBytes(StandardCharsets.UTF_8)), junk);
        }
        // field 1, length-delimited, says 10 bytes follow but only 2 do
        assertFalse(ProtobufShape.isWellFormed(new byte[] {0x0a, 0x0a, 0x01, 0x02}));
    }

    @Test
    void aRefusingEndpointCostsOneLineAtShutdownNamingTheSpansAndTheCause() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:"
                + closedPort, "otel.bsp.schedule.delay", "60000"), Map.of());
        List<String> reports = new CopyOnWriteArrayList<>();
        GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(reports::add));
        for (int i = 0; i < 7; i++) {
            assertTrue(telemetry.record(call()).isPresent());
        }

        setup.shutdown(Duration.ofMillis(500));

        String line = setup.undeliveredReport().orElseThrow();
        assertTrue(line.startsWith("OpenTelemetry export: 7 span(s) and "), line);
        assertTrue(line.contains("refused the connection"), line);
        assertTrue(line.contains("http://127.0.0.1:" + closedPort), line);
        assertEquals(List.of(), reports, "the SDK's own warnings at shutdown are not reported on top");
    }

    @Test
    void anHttp200PageIsNotTakenForDelivery() throws IOException {
        HttpServer page = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        page.createContext("/", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                in.readAllBytes();
            }
            byte[] body = "<html>a proxy's page</html>".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        page.start();
        try {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:"
                    + page.getAddress().getPort(), "otel.bsp.schedule.delay", "60000"), Map.of());
            GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(ignored -> { }));
            for (int i = 0; i < 3; i++) {
                assertTrue(telemetry.record(call()).isPresent());
            }
            setup.shutdown(Duration.ofSeconds(2));

            String line = setup.undeliveredReport().orElseThrow();
            assertTrue(line.startsWith("OpenTelemetry export: 3 span(s) and "), line);
            assertTrue(line.contains("not an OTLP response"), line);
        } finally {
            page.stop(0);
        }
    }

    @Test
    void aSpanRecordedLateKeepsTheIdsChosenWhenTheCallEnded() throws IOException {
        try (OtlpReceiver receiver = new OtlpReceiver()) {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", receiver.endpoint()),
                    Map.of());
            GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(ignored -> { }));
            ParentSpan parent = new ParentSpan("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", (byte) 1,
                    false);
            SpanIds child = SpanIds.random(parent);
            SpanIds root = SpanIds.random(null);
            assertEquals(parent.traceIdHex(), child.traceId());
            assertEquals(32, root.traceId().length());
            assertEquals(16, root.spanId().length());

            assertEquals(Optional.of(child), telemetry.record(GenAiCall.builder("openai", "chat").requestModel("a")
                    .times(START, START.plusMillis(5)).parent(parent).build(), child));
            assertEquals(Optional.of(root), telemetry.record(GenAiCall.builder("openai", "chat").requestModel("b")
                    .times(START, START.plusMillis(5)).build(), root));
            assertTrue(setup.shutdown(Duration.ofSeconds(5)), "flushed in time");

            List<Span> spans = receiver.traces.stream().flatMap(r -> r.getResourceSpansList().stream())
                    .flatMap(rs -> rs.getScopeSpansList().stream()).flatMap(ss -> ss.getSpansList().stream())
                    .toList();
            assertEquals(2, spans.size());
            for (Span span : spans) {
                SpanIds expected = span.getName().equals("chat a") ? child : root;
                assertEquals(expected.traceId(), HexFormat.of().formatHex(span.getTraceId().toByteArray()));
                assertEquals(expected.spanId(), HexFormat.of().formatHex(span.getSpanId().toByteArray()));
            }
            assertEquals(Optional.empty(), setup.undeliveredReport(), "all delivered: nothing to say");
        }
    }

    private static GenAiCall call() {
        return GenAiCall.builder("openai", "chat").requestModel("gpt-4o").inputTokens(10L).outputTokens(5L)
                .times(START, START.plusMillis(100)).build();
    }
}
