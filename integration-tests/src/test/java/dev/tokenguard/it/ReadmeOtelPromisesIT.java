package dev.tokenguard.it;

import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tokenguard.otel.OtlpReceiver;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What README promises about OpenTelemetry export, checked on the built agent in a forked JVM
 * whose spans a loopback receiver decodes as real OTLP protobuf: the switch, when a streaming
 * call's span ends, a slow collector, and that the API key reaches no span and no log file.
 */
class ReadmeOtelPromisesIT {
    static final String APP = "dev.tokenguard.it.app.PromiseScenarios";
    static final String GOVERNING = ReadmePromisesIT.GOVERNING;

    static FakeOpenAiServer server;

    @TempDir
    Path work;
    OtlpReceiver receiver;

    @BeforeAll
    static void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void start() throws IOException {
        server.reset();
        receiver = new OtlpReceiver();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    /**
     * Export to {@link #receiver} configured as README shows, with the standard variables. Metrics keep
     * their default interval (they are flushed at exit): the SDK's metric export timeout is the
     * interval, and a short one times out on a busy machine.
     */
    Map<String, String> otelEnvironment() {
        return Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_SERVICE_NAME", "scenario-app",
                "OTEL_BSP_SCHEDULE_DELAY", "200");
    }

    ForkedJvm.Result run(String agentArgs, List<String> jvmOptions, Map<String, String> env, String scenario,
                         int calls, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of(scenario, server.baseUrl(), String.valueOf(calls)));
        args.addAll(List.of(more));
        return ForkedJvm.run(work, agentArgs, jvmOptions, env, APP, args.toArray(String[]::new));
    }

    static List<Span> spans(List<ExportTraceServiceRequest> requests) {
        return requests.stream().flatMap(r -> r.getResourceSpansList().stream())
                .flatMap(rs -> rs.getScopeSpansList().stream()).flatMap(ss -> ss.getSpansList().stream()).toList();
    }

    static AnyValue attribute(Span span, String key) {
        for (KeyValue kv : span.getAttributesList()) {
            if (kv.getKey().equals(key)) {
                return kv.getValue();
            }
        }
        throw new AssertionError("span " + span.getName() + " has no attribute " + key);
    }

    static void assertOnlyTheStartupLine(ForkedJvm.Result result) {
        assertEquals(List.of(GOVERNING, ForkedJvm.GOVERNING_OKHTTP), result.agentLines(), result::toString);
    }

    /**
     * The export goes over the JDK's HTTP client (OTLP http/protobuf), which the agent governs too: its
     * start-up line comes beside those of the SDK and of OkHttp, in any order (its requests are not to an LLM endpoint).
     */
    static void assertOnlyTheStartupLinesWhileExporting(ForkedJvm.Result result) {
        String jdk = "[tokenguard] TokenGuard: governing jdk-http-client "
                + Runtime.version().version().stream().map(String::valueOf).collect(Collectors.joining("."));
        assertEquals(Stream.of(jdk, GOVERNING, ForkedJvm.GOVERNING_OKHTTP).sorted().toList(),
                result.agentLines().stream().sorted().toList(), result::toString);
    }

    // ---- the switch

    @Test
    void otelDisabledExportsNothingEvenWithAnEndpointWhileOnItExports() throws Exception {
        ForkedJvm.Result off = run("otel.enabled=false", List.of(), otelEnvironment(), "chat", 4);
        assertEquals(0, off.exitCode(), off::toString);
        assertOnlyTheStartupLine(off);
        assertEquals(4, off.lines("OK ").size(), off::toString);
        assertEquals(4, SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call").size());
        assertEquals(List.of(), receiver.contentTypes, "no request of any kind reached the collector");
        assertTrue(receiver.traces.isEmpty() && receiver.metrics.isEmpty());

        // control: the same run with export on
        server.reset();
        ForkedJvm.Result on = run("", List.of(), otelEnvironment(), "chat", 4);
        assertEquals(0, on.exitCode(), on::toString);
        assertOnlyTheStartupLinesWhileExporting(on);
        List<Span> spans = spans(receiver.traces);
        assertEquals(4, spans.size(), spans::toString);
        for (Span span : spans) {
            assertEquals("chat gpt-4o-mini", span.getName());
        }
        assertFalse(receiver.metrics.isEmpty(), "metrics are exported too");
    }

    // ---- streaming span

    @Test
    void aStreamingCallsSpanEndsWhenItsStreamEnds() throws Exception {
        ForkedJvm.Result result = run("", List.of(), otelEnvironment(), "timed-streams", 2, "150");
        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLinesWhileExporting(result);
        String[] full = result.lines("FULL ").get(0).split(" ");
        String[] early = result.lines("EARLY ").get(0).split(" ");
        assertTrue(Integer.parseInt(full[3].substring("chunks=".length())) > 2, result::toString);

        List<Span> spans = new ArrayList<>(spans(receiver.traces));
        assertEquals(2, spans.size(), spans::toString);
        spans.sort(Comparator.comparingLong(Span::getStartTimeUnixNano));
        for (Span span : spans) {
            assertTrue(attribute(span, "gen_ai.request.stream").getBoolValue(), span::toString);
        }
        // read to the end: the span ends after the last read began and before the app closed the stream
        Span fullSpan = spans.get(0);
        assertTrue(fullSpan.getEndTimeUnixNano() >= Long.parseLong(full[1]),
                "span end " + fullSpan.getEndTimeUnixNano() + " before the last read began at " + full[1]);
        assertTrue(fullSpan.getEndTimeUnixNano() <= Long.parseLong(full[2]),
                "span end " + fullSpan.getEndTimeUnixNano() + " after the stream was closed at " + full[2]);
        // closed early: the span ends when the app closes the stream
        Span earlySpan = spans.get(1);
        assertTrue(earlySpan.getEndTimeUnixNano() >= Long.parseLong(early[1]),
                "span end " + earlySpan.getEndTimeUnixNano() + " before the app closed the stream at " + early[1]);
        assertTrue(earlySpan.getEndTimeUnixNano() <= Long.parseLong(early[2]),
                "span end " + earlySpan.getEndTimeUnixNano() + " after close returned at " + early[2]);
    }

    // ---- a slow collector

    /**
     * An OTLP/HTTP collector that accepts each export request and holds it unanswered until the
     * app says its calls are done: a file {@code held} tells the app that a request carrying telemetry is held,
     * the app's file {@code done} lets the collector answer.
     */
    static final class HoldingCollector implements AutoCloseable {
        final List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
        final List<String> heldWhileCalling = new CopyOnWriteArrayList<>();
        private final Path held;
        private final Path done;
        private final HttpServer server;
        private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "holding-collector");
            t.setDaemon(true);
            return t;
        });
        private volatile boolean closed;

        HoldingCollector(Path held, Path done) throws IOException {
            this.held = held;
            this.done = done;
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", this::handle);
            server.setExecutor(executor);
            server.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                byte[] body = in.readAllBytes();
                String path = exchange.getRequestURI().getPath();
                // the agent's empty export at start (its warm-up) is held too, but only an export that carries
                // spans or metrics tells the app that its telemetry is being held
                if (body.length > 0) {
                    if (!Files.exists(done)) {
                        heldWhileCalling.add(path);
                    }
                    try {
                        Files.createFile(held);
                    } catch (FileAlreadyExistsException e) {
                        // another request is held already
                    }
                }
                while (!Files.exists(done) && !closed) {
                    Thread.sleep(20);
                }
                Message answer;
                if (path.equals("/v1/traces")) {
                    traces.add(ExportTraceServiceRequest.parseFrom(body));
                    answer = ExportTraceServiceResponse.getDefaultInstance();
                } else if (path.equals("/v1/metrics")) {
                    ExportMetricsServiceRequest.parseFrom(body);
                    answer = ExportMetricsServiceResponse.getDefaultInstance();
                } else {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                byte[] bytes = answer.toByteArray();
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, bytes.length);
                exchange.getResponseBody().write(bytes);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            closed = true;
            server.stop(0);
            executor.shutdownNow();
        }
    }

    @Test
    void aCollectorThatHoldsEveryExportDoesNotHoldUpTheCalls() throws Exception {
        Path held = work.resolve("collector-holds-a-request");
        Path done = work.resolve("app-calls-done");
        try (HoldingCollector collector = new HoldingCollector(held, done)) {
            // long export timeouts: an exporter on the call path would wait for the collector, and the
            // collector waits for the calls to end
            List<String> options = List.of("-Dotel.exporter.otlp.endpoint=" + collector.endpoint(),
                    "-Dotel.exporter.otlp.timeout=120000", "-Dotel.bsp.export.timeout=120000",
                    "-Dotel.bsp.schedule.delay=100");
            long started = System.nanoTime();
            ForkedJvm.Result result = run("", options, Map.of(), "while-collector-holds", 10,
                    held.toString(), done.toString());
            System.out.printf("slow collector: the app ran %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

            assertEquals(0, result.exitCode(), result::toString);
            assertOnlyTheStartupLinesWhileExporting(result);
            assertTrue(result.lines("COLLECTOR holding=").get(0).startsWith("COLLECTOR holding=true"),
                    result::toString);
            assertEquals(List.of("COLLECTOR still holding=true"), result.lines("COLLECTOR still"), result::toString);
            assertFalse(collector.heldWhileCalling.isEmpty());
            int served = server.requestCount();
            assertTrue(served >= 11, result::toString);
            assertEquals(served, result.lines("OK ").size(), result::toString);
            SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
            assertEquals(served, logs.of("llm_call").size());
            assertEquals(server.totalTokens(), logs.sum("llm_call", "total_tokens"));
            assertEquals(1, logs.of("session_end").size(), "the log was closed: " + logs.events);
            assertEquals(served, spans(collector.traces).size(), "once answered, the collector gets every span");
        }
    }

    // ---- the API key

    @Test
    void theApiKeyReachesNoLogFileAndNoSpanEvenWithContentCapture() throws Exception {
        String key = "sk-proj-Zq7Tk2RwXv9LmN4pBs8Hd3Jf6Gc1Ya5E";
        server.setFailNext(401);
        ForkedJvm.Result result = run("session-log.capture-content=true", List.of("-Dscenario.api-key=" + key),
                otelEnvironment(), "every-kind", 2);

        assertEquals(0, result.exitCode(), result::toString);
        assertOnlyTheStartupLinesWhileExporting(result);
        assertEquals(List.of("FAILED UnauthorizedException"), result.lines("FAILED "), result::toString);
        assertEquals(16, result.lines("OK ").size(), result::toString);
        List<RecordedRequest> requests = server.requests();
        assertEquals(17, requests.size());
        for (RecordedRequest r : requests) {
            assertEquals("Bearer " + key, r.header("authorization"), "the key went over the wire: " + r);
        }
        // the key whole, and a middle part of it (no partial masking either)
        List<byte[]> needles = List.of(key.getBytes(StandardCharsets.UTF_8),
                key.substring(12, 28).getBytes(StandardCharsets.UTF_8));

        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        assertEquals(17, logs.of("llm_call").size(), "16 answered calls and the failed one");
        assertEquals(1, logs.of("llm_call").stream().filter(c -> c.get("status").asText().equals("error")).count());
        assertTrue(logs.of("llm_call").stream().anyMatch(c -> c.hasNonNull("prompt")), "content is captured");
        List<Path> files;
        try (Stream<Path> walk = Files.walk(work)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertFalse(files.isEmpty());
        for (Path file : files) {
            assertNoNeedle(Files.readAllBytes(file), needles, file.getFileName().toString());
        }
        assertNoNeedle(String.join("\n", result.stdout()).getBytes(StandardCharsets.UTF_8), needles, "stdout");
        assertNoNeedle(String.join("\n", result.stderr()).getBytes(StandardCharsets.UTF_8), needles, "stderr");

        List<Span> spans = spans(receiver.traces);
        assertEquals(17, spans.size(), "16 answered calls and the failed one");
        for (ExportTraceServiceRequest request : receiver.traces) {
            assertNoNeedle(request.toByteArray(), needles, "an exported trace request");
            for (ResourceSpans rs : request.getResourceSpansList()) {
                assertNoKey(rs.getResource().getAttributesList(), key, "resource");
            }
        }
        for (Span span : spans) {
            assertNoKey(span.getAttributesList(), key, span.getName());
            for (Span.Event event : span.getEventsList()) {
                assertNoKey(event.getAttributesList(), key, span.getName() + " event " + event.getName());
            }
            assertFalse(span.getStatus().getMessage().contains(key.substring(12, 28)), span::toString);
        }
        for (ExportMetricsServiceRequest request : receiver.metrics) {
            assertNoNeedle(request.toByteArray(), needles, "an exported metrics request");
        }
        assertFalse(receiver.metrics.isEmpty());
    }

    static void assertNoKey(List<KeyValue> attributes, String key, String where) {
        for (KeyValue kv : attributes) {
            String text = kv.getValue().toString();
            assertFalse(text.contains(key) || text.contains(key.substring(12, 28)),
                    "the API key in attribute " + kv.getKey() + " of " + where);
        }
    }

    static void assertNoNeedle(byte[] haystack, List<byte[]> needles, String where) {
        for (byte[] needle : needles) {
            outer:
            for (int i = 0; i + needle.length <= haystack.length; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (haystack[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                throw new AssertionError("the API key (or part of it) is in " + where + " at byte " + i);
            }
        }
    }
}
