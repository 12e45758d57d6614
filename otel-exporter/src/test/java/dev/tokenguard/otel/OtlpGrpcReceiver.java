package dev.tokenguard.otel;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory;
import io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A loopback OTLP/gRPC receiver: a real grpc-java server (Netty, plaintext HTTP/2) serving
 * {@code opentelemetry.proto.collector.trace.v1.TraceService/Export} and
 * {@code opentelemetry.proto.collector.metrics.v1.MetricsService/Export}, decoding what arrives with the
 * real OTLP protobuf classes. Shared with the forked-JVM tests through this module's test jar.
 */
public final class OtlpGrpcReceiver implements AutoCloseable {
    public final List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
    public final List<ExportMetricsServiceRequest> metrics = new CopyOnWriteArrayList<>();
    /** The full gRPC method names that were called, in arrival order. */
    public final List<String> methods = new CopyOnWriteArrayList<>();
    private final Server server;

    static {
        // Netty would pick the test JVM's SLF4J (Logback, DEBUG by default); JUL keeps it quiet at INFO
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    }

    public OtlpGrpcReceiver() throws IOException {
        MethodDescriptor<byte[], byte[]> traceExport = unary("opentelemetry.proto.collector.trace.v1.TraceService");
        MethodDescriptor<byte[], byte[]> metricsExport =
                unary("opentelemetry.proto.collector.metrics.v1.MetricsService");
        byte[] traceResponse = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
        byte[] metricsResponse = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(ServerServiceDefinition.builder(traceExport.getServiceName())
                        .addMethod(traceExport, ServerCalls.asyncUnaryCall((request, response) -> {
                            methods.add(traceExport.getFullMethodName());
                            traces.add(parse(() -> ExportTraceServiceRequest.parseFrom(request)));
                            response.onNext(traceResponse);
                            response.onCompleted();
                        }))
                        .build())
                .addService(ServerServiceDefinition.builder(metricsExport.getServiceName())
                        .addMethod(metricsExport, ServerCalls.asyncUnaryCall((request, response) -> {
                            methods.add(metricsExport.getFullMethodName());
                            metrics.add(parse(() -> ExportMetricsServiceRequest.parseFrom(request)));
                            response.onNext(metricsResponse);
                            response.onCompleted();
                        }))
                        .build())
                .build()
                .start();
        warmUp(traceExport, metricsExport);
    }

    /**
     * Calls both methods once with an empty request, then forgets them: the server's own classes (Netty, grpc-java)
     * load on its first connection, several seconds on a busy machine, which the exporter under test would
     * otherwise see as an endpoint that does not answer.
     */
    private void warmUp(MethodDescriptor<byte[], byte[]> traceExport, MethodDescriptor<byte[], byte[]> metricsExport) {
        ManagedChannel channel = NettyChannelBuilder.forAddress(InetAddress.getLoopbackAddress().getHostAddress(),
                server.getPort()).usePlaintext().build();
        try {
            for (MethodDescriptor<byte[], byte[]> method : List.of(traceExport, metricsExport)) {
                ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(120,
                        TimeUnit.SECONDS), new byte[0]);
            }
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        traces.clear();
        metrics.clear();
        methods.clear();
    }

    /** {@code http://127.0.0.1:<port>}: OTLP/gRPC endpoints carry no path. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getPort();
    }

    private static MethodDescriptor<byte[], byte[]> unary(String service) {
        return MethodDescriptor.newBuilder(RawBytes.INSTANCE, RawBytes.INSTANCE)
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, "Export"))
                .build();
    }

    private interface Parse<T> {
        T parse() throws IOException;
    }

    private static <T> T parse(Parse<T> parse) {
        try {
            return parse.parse();
        } catch (IOException e) {
            throw new UncheckedIOException("not an OTLP protobuf message", e);
        }
    }

    /** Messages as they are on the wire; the handlers decode them with the OTLP classes. */
    private enum RawBytes implements MethodDescriptor.Marshaller<byte[]> {
        INSTANCE;

        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try (stream) {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException("could not read a gRPC message", e);
            }
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
