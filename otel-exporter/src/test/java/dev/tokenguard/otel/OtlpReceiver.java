package dev.tokenguard.otel;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback OTLP/HTTP (protobuf) receiver that decodes what arrives on /v1/traces and /v1/metrics
 * with the real OTLP protobuf classes. Shared with the forked-JVM tests through this module's test jar.
 */
public final class OtlpReceiver implements AutoCloseable {
    public final List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
    public final List<ExportMetricsServiceRequest> metrics = new CopyOnWriteArrayList<>();
    public final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    public OtlpReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/traces", exchange -> {
            traces.add(ExportTraceServiceRequest.parseFrom(body(exchange)));
            respond(exchange, ExportTraceServiceResponse.getDefaultInstance().toByteArray());
        });
        server.createContext("/v1/metrics", exchange -> {
            metrics.add(ExportMetricsServiceRequest.parseFrom(body(exchange)));
            respond(exchange, ExportMetricsServiceResponse.getDefaultInstance().toByteArray());
        });
        server.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private byte[] body(HttpExchange exchange) throws IOException {
        contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
        try (InputStream in = exchange.getRequestBody()) {
            return in.readAllBytes();
        }
    }

    private static void respond(HttpExchange exchange, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
