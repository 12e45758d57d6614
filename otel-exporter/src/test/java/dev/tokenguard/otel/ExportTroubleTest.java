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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.net.ConnectException;
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

    @Test
    void theLedgerKnowsWhetherEverySendersLastExportWasAnswered() {
        ExportLedger ledger = new ExportLedger();
        List<String> reports = new CopyOnWriteArrayList<>();
        ledger.reportTo(reports::add);
        Object traces = new Object();
        Object metrics = new Object();
        assertEquals(ExportLedger.Health.NOT_YET_ANSWERED, ledger.health());

        ledger.failed(traces, new ConnectException("Connection refused"), true);
        assertEquals(ExportLedger.Health.FAILING, ledger.health());
        assertEquals(List.of(), reports, "a probe's failure is noted, not reported");
        ledger.spanEnded();
        assertTrue(ledger.undelivered("http://collector:4318", 900).orElseThrow().contains("refused the connection"));

        ledger.answered(metrics);
        assertEquals(ExportLedger.Health.FAILING, ledger.health(), "the traces sender still fails");
        ledger.answered(traces);
        assertEquals(ExportLedger.Health.ANSWERING, ledger.health());
        assertTrue(ledger.undelivered("http://collector:4318", 900).orElseThrow()
                .endsWith("did not answer within the 900 ms allowed at shutdown"), "an answer clears the old cause");

        ledger.badResponse(metrics, "HTTP 503", false);
        assertEquals(ExportLedger.Health.FAILING, ledger.health());
        ledger.badResponse(metrics, "HTTP 502", false);
        assertEquals(List.of("OpenTelemetry export problem (reported once): Failed to export: the endpoint's answer"
                + " was not an OTLP response (HTTP 503)"), reports, "an export's failure is reported, once");
    }

    @Test
    void anEndpointThatLeavesAProbeUnansweredIsSilentOnceTheProbeWasWrittenLongEnoughAgo() {
        ExportLedger patient = new ExportLedger(Duration.ofHours(1));
        patient.probeWritten();
        assertEquals(ExportLedger.Health.NOT_YET_ANSWERED, patient.health(), "written, silence allowed for an hour");

        ExportLedger strict = new ExportLedger(Duration.ZERO);
        assertEquals(ExportLedger.Health.NOT_YET_ANSWERED, strict.health(), "no probe written: nothing to judge");
        strict.probeWritten();
        assertEquals(ExportLedger.Health.FAILING, strict.health(), "written, no silence allowed");
        strict.answered(new Object());
        assertEquals(ExportLedger.Health.ANSWERING, strict.health(), "an answer ends the silence");

        ExportLedger timedOut = new ExportLedger(Duration.ofHours(1));
        timedOut.probeTimedOut(new java.net.http.HttpTimeoutException("request timed out"));
        assertEquals(ExportLedger.Health.FAILING, timedOut.health(), "a first probe already got no answer in time");
    }

    @Test
    void onceTheSendersAreStoppedTheirFailuresAreNotTheEndpointsAndNotRecorded() {
        ExportLedger ledger = new ExportLedger();
        ledger.spanEnded();
        ledger.failed(new Object(), new java.net.http.HttpTimeoutException("request timed out"), true);
        ledger.aborting();
        ledger.failed(new Object(), new IOException("selector manager closed"), false);
        String line = ledger.undelivered("http://collector:4318", 450).orElseThrow();
        assertTrue(line.endsWith("the endpoint did not answer in time (java.net.http.HttpTimeoutException: request"
                + " timed out)"), line);
    }

    @Test
    void theExitFlushLeavesNoClientThreadOfTheSenderInASocketCallWhenTheEndpointNeverAnswers() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            List<String> before = selectorThreads();
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint",
                    "http://127.0.0.1:" + silent.getLocalPort(), "otel.bsp.schedule.delay", "60000"), Map.of());
            GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(ignored -> { }));
            setup.warmUp();
            assertTrue(telemetry.record(call()).isPresent());
            List<String> ours = selectorThreads().stream().filter(name -> !before.contains(name)).toList();
            assertEquals(4, ours.size(), "a JDK HttpClient per sender, with and without retries, per signal: " + ours);

            assertFalse(setup.shutdown(ExitFlush.always(Duration.ofMillis(100))), "never answered");

            // the threads were told to end before shutdown returned; on a busy machine they may take a moment
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (ours.stream().anyMatch(selectorThreads()::contains) && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertEquals(List.of(), ours.stream().filter(selectorThreads()::contains).toList());
            String line = setup.undeliveredReport().orElseThrow();
            assertTrue(line.startsWith("OpenTelemetry export: 1 span(s) and "), line);
            assertTrue(line.contains("did not answer"), line);
            for (java.net.Socket socket : held) {
                socket.close();
            }
        }
    }

    private static List<String> selectorThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(name -> name.startsWith("HttpClient-") && name.endsWith("-SelectorManager")).toList();
    }

    @Test
    void theWarmUpSendsEachSignalOneEmptyRequestAndLearnsThatTheEndpointAnswers() throws IOException {
        try (OtlpReceiver receiver = new OtlpReceiver()) {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", receiver.endpoint()),
                    Map.of());
            List<String> reports = new CopyOnWriteArrayList<>();
            setup.start(reports::add);
            assertEquals(ExportLedger.Health.NOT_YET_ANSWERED, setup.endpointHealth());

            assertTrue(setup.warmUp().join(30, TimeUnit.SECONDS).isDone(), "the probes were answered");

            assertEquals(ExportLedger.Health.ANSWERING, setup.endpointHealth());
            assertEquals(1, receiver.traces.size(), "one empty trace export");
            assertEquals(0, receiver.traces.get(0).getResourceSpansCount());
            assertEquals(1, receiver.metrics.size(), "one empty metrics export");
            assertEquals(0, receiver.metrics.get(0).getResourceMetricsCount());
            assertTrue(setup.shutdown(Duration.ofSeconds(5)));
            assertEquals(Optional.empty(), setup.undeliveredReport());
            assertEquals(List.of(), reports);
        }
    }

    @Test
    void theWarmUpOverGrpcLearnsThatTheEndpointAnswers() throws IOException {
        try (OtlpGrpcReceiver receiver = new OtlpGrpcReceiver()) {
            // the receiver's own classes load on its first connection: slow on a busy machine, hence the timeout
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", receiver.endpoint(),
                    "otel.exporter.otlp.protocol", "grpc", "otel.exporter.otlp.timeout", "30000"), Map.of());
            setup.start(ignored -> { });

            assertTrue(setup.warmUp().join(60, TimeUnit.SECONDS).isDone(), "the probes were answered");

            assertEquals(ExportLedger.Health.ANSWERING, setup.endpointHealth());
            assertEquals(1, receiver.traces.size(), "one empty trace export");
            assertEquals(0, receiver.traces.get(0).getResourceSpansCount());
            assertEquals(1, receiver.metrics.size(), "one empty metrics export");
            assertTrue(setup.shutdown(Duration.ofSeconds(5)));
        }
    }

    @Test
    void theWarmUpIsOneAttemptWithoutRetryAndItsFailureIsNotReported() throws IOException {
        AtomicInteger requests = new AtomicInteger();
        HttpServer unavailable = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        unavailable.createContext("/", exchange -> {
            requests.incrementAndGet();
            try (InputStream in = exchange.getRequestBody()) {
                in.readAllBytes();
            }
            exchange.sendResponseHeaders(503, -1); // retryable: the SDK's retrying sender would try 5 times
            exchange.close();
        });
        unavailable.start();
        try {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.traces.endpoint",
                    "http://127.0.0.1:" + unavailable.getAddress().getPort() + "/v1/traces"), Map.of());
            List<String> reports = new CopyOnWriteArrayList<>();
            setup.start(reports::add);

            assertTrue(setup.warmUp().join(30, TimeUnit.SECONDS).isDone());

            assertEquals(1, requests.get(), "one request: traces only, no retry");
            assertEquals(ExportLedger.Health.FAILING, setup.endpointHealth());
            assertEquals(List.of(), reports);
            setup.shutdown(Duration.ofMillis(500));
        } finally {
            unavailable.stop(0);
        }
    }

    @Test
    void aWarmUpWithoutAnswerIsAskedOnceMoreAndOnlyThenCountsAsTrouble() throws Exception {
        List<java.net.Socket> held = new CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept()); // never read, never answered
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.traces.endpoint",
                    "http://127.0.0.1:" + silent.getLocalPort() + "/v1/traces", "otel.exporter.otlp.timeout", "300"),
                    Map.of());
            List<String> reports = new CopyOnWriteArrayList<>();
            setup.start(reports::add);

            assertTrue(setup.warmUp().join(60, TimeUnit.SECONDS).isDone());

            assertEquals(2, held.size(), "two probes, each on its own connection");
            assertEquals(ExportLedger.Health.FAILING, setup.endpointHealth());
            assertEquals(List.of(), reports);
            setup.shutdown(Duration.ofMillis(200));
        } finally {
            for (java.net.Socket socket : held) {
                socket.close();
            }
        }
    }

    @Test
    void theWarmUpLearnsThatARefusingEndpointIsInTrouble() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:"
                + closedPort), Map.of());
        List<String> reports = new CopyOnWriteArrayList<>();
        GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(reports::add));

        assertTrue(setup.warmUp().join(30, TimeUnit.SECONDS).isDone());
        assertEquals(ExportLedger.Health.FAILING, setup.endpointHealth());
        assertTrue(telemetry.record(call()).isPresent());
        setup.shutdown(new ExitFlush(Duration.ofSeconds(30), Duration.ofMillis(400), Duration.ofMillis(200)));

        String line = setup.undeliveredReport().orElseThrow();
        assertTrue(line.startsWith("OpenTelemetry export: 1 span(s) and "), line);
        assertTrue(line.contains("refused the connection"), line);
        assertEquals(List.of(), reports);
    }

    /**
     * A collector that answers empty requests at once and holds every request carrying data until {@code release}
     * counts down, then answers it like a real one.
     */
    static final class SlowCollector implements AutoCloseable {
        final List<Integer> spansReceived = new CopyOnWriteArrayList<>();
        private final CountDownLatch release;
        private final ExecutorService threads = Executors.newCachedThreadPool();
        private final HttpServer server;

        SlowCollector(CountDownLatch release) throws IOException {
            this.release = release;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.setExecutor(threads);
            server.createContext("/", exchange -> {
                byte[] body;
                try (InputStream in = exchange.getRequestBody()) {
                    body = in.readAllBytes();
                }
                if (body.length > 0) {
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (exchange.getRequestURI().getPath().equals("/v1/traces")) {
                    spansReceived.add(io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest
                            .parseFrom(body).getResourceSpansList().stream()
                            .flatMap(rs -> rs.getScopeSpansList().stream()).mapToInt(ss -> ss.getSpansCount()).sum());
                }
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, -1); // an empty body: the all-default OTLP response
                exchange.close();
            });
            server.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            release.countDown();
            server.stop(0);
            threads.shutdownNow();
        }
    }

    @Test
    void anEndpointThatAnsweredGetsTheLongExitDeadlineAndItsSpansArriveAfterTheShortOnePassed() throws Exception {
        // the collector holds the span export until the test's short deadlines have surely passed
        CountDownLatch release = new CountDownLatch(1);
        try (SlowCollector collector = new SlowCollector(release)) {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", collector.endpoint(),
                    "otel.bsp.schedule.delay", "60000"), Map.of());
            GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(ignored -> { }));
            assertTrue(setup.warmUp().join(30, TimeUnit.SECONDS).isDone());
            assertEquals(ExportLedger.Health.ANSWERING, setup.endpointHealth());
            for (int i = 0; i < 3; i++) {
                assertTrue(telemetry.record(call()).isPresent());
            }
            Thread releaser = new Thread(() -> {
                try {
                    // 1 s is more than the 50 ms an endpoint that has not answered would get
                    release.await(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                release.countDown();
            });
            releaser.start();

            boolean flushed = setup.shutdown(new ExitFlush(Duration.ofSeconds(30), Duration.ofMillis(50),
                    Duration.ofMillis(50)));

            assertTrue(flushed, "the answering endpoint was given the long deadline");
            assertEquals(List.of(3), collector.spansReceived.stream().filter(n -> n > 0).toList());
            assertEquals(Optional.empty(), setup.undeliveredReport());
        }
    }

    @Test
    void anEndpointThatNeverAnsweredGetsTheShortExitDeadlineAndTheLineNamesIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (SlowCollector collector = new SlowCollector(release)) {
            OtelSetup setup = OtelSetup.fromEnvironment(Map.of("otel.exporter.otlp.endpoint", collector.endpoint(),
                    "otel.bsp.schedule.delay", "60000"), Map.of());
            GenAiTelemetry telemetry = new GenAiTelemetry(setup.start(ignored -> { }));
            // no warm-up: nothing has been answered yet
            for (int i = 0; i < 3; i++) {
                assertTrue(telemetry.record(call()).isPresent());
            }

            boolean flushed = setup.shutdown(new ExitFlush(Duration.ofSeconds(30), Duration.ofMillis(200),
                    Duration.ofMillis(100)));
            release.countDown();

            assertFalse(flushed);
            assertEquals(ExportLedger.Health.NOT_YET_ANSWERED, setup.endpointHealth());
            String line = setup.undeliveredReport().orElseThrow();
            assertTrue(line.startsWith("OpenTelemetry export: 3 span(s) and "), line);
            assertTrue(line.endsWith("did not answer within the 200 ms allowed at shutdown"), line);
        }
    }

    private static GenAiCall call() {
        return GenAiCall.builder("openai", "chat").requestModel("gpt-4o").inputTokens(10L).outputTokens(5L)
                .times(START, START.plusMillis(100)).build();
    }
}
