package dev.tokenguard.otel;

import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSender;
import io.opentelemetry.sdk.common.export.GrpcSenderConfig;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.ProxyOptions;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * The SDK's OTLP senders (HTTP and gRPC), each wrapped so that:
 * <ul>
 *   <li>every failure is noted in the {@link ExportLedger} with its cause, for the one line at exit;</li>
 *   <li>an HTTP 2xx answer whose body is not protobuf (a proxy's or a wrong server's page) counts as a
 *       failure: the SDK itself trusts any 2xx, so the spans would silently vanish;</li>
 *   <li>every answer is noted too, so the ledger knows whether the endpoint is answering;</li>
 *   <li>once the ledger is {@linkplain ExportLedger#closing() closing}, each export is one attempt on a
 *       sender built without a retry policy, so the last flush never sits in a backoff loop. While the
 *       JVM runs, the SDK's retries stay as configured. A {@linkplain ExportLedger#probing probe} (the
 *       warm-up's empty export) is also a single attempt, and its failure is noted but not reported.</li>
 * </ul>
 * The SDK chooses senders through service loading, so they are wrapped where they are loaded.
 */
final class WatchedSenders implements ComponentLoader {
    private final ComponentLoader delegate;
    private final ExportLedger ledger;
    /** The senders made, for {@link #stopAll()}. */
    private final List<Stoppable> made = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A sender that can end its exports and its client's I/O threads at exit. */
    private interface Stoppable {
        /** Starts ending them, without waiting: adds what to wait for to the two lists. */
        void stop(List<Thread> selectors, List<Object> okHttpClients);
    }

    WatchedSenders(ComponentLoader delegate, ExportLedger ledger) {
        this.delegate = delegate;
        this.ledger = ledger;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> Iterable<T> load(Class<T> spiClass) {
        Iterable<T> providers = delegate.load(spiClass);
        if (spiClass != HttpSenderProvider.class && spiClass != GrpcSenderProvider.class) {
            return providers;
        }
        List<T> wrapped = new ArrayList<>();
        for (T provider : providers) {
            if (provider instanceof HttpSenderProvider http) {
                wrapped.add((T) (HttpSenderProvider) config -> {
                    Http sender = new Http(http, config, ledger);
                    made.add(sender);
                    return sender;
                });
            } else if (provider instanceof GrpcSenderProvider grpc) {
                wrapped.add((T) (GrpcSenderProvider) config -> {
                    Grpc sender = new Grpc(grpc, config, ledger);
                    made.add(sender);
                    return sender;
                });
            }
        }
        return wrapped;
    }

    /**
     * At JVM exit, once the one flush is over or out of time: ends every sender's exports still on the wire and
     * the I/O threads of its client (see {@link SenderThreads}), so the JVM's own exit does not wait for them.
     * Failures from then on are the stop's, not the endpoint's: the ledger no longer records them.
     */
    void stopAll() {
        ledger.aborting();
        List<Thread> selectors = new ArrayList<>();
        List<Object> okHttpClients = new ArrayList<>();
        for (Stoppable sender : made) {
            try {
                sender.stop(selectors, okHttpClients);
            } catch (RuntimeException ignored) {
                // the next sender still gets stopped
            }
        }
        SenderThreads.awaitEnd(selectors, okHttpClients);
    }

    /** Notes in the ledger when a probe's request is written, i.e. when the sender is about to send it. */
    private static MessageWriter watched(MessageWriter message, boolean probe, ExportLedger ledger) {
        if (!probe) {
            return message;
        }
        return new MessageWriter() {
            @Override
            public void writeMessage(java.io.OutputStream output) throws IOException {
                ledger.probeWritten();
                message.writeMessage(output);
            }

            @Override
            public int getContentLength() {
                return message.getContentLength();
            }
        };
    }

    static final class Http implements HttpSender, Stoppable {
        private final HttpSenderProvider provider;
        private final HttpSenderConfig config;
        private final ExportLedger ledger;
        private final Attempts<HttpSender> attempts;

        Http(HttpSenderProvider provider, HttpSenderConfig config, ExportLedger ledger) {
            this.provider = provider;
            this.config = config;
            this.ledger = ledger;
            this.attempts = new Attempts<>(provider.createSender(config), config.getRetryPolicy() == null ? null
                    : provider.createSender(new HttpWithoutRetry(config)), ledger);
        }

        @Override
        public void send(MessageWriter message, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
            boolean probe = ledger.isProbing();
            boolean tentative = ledger.isTentativeProbe();
            HttpSender sender = attempts.sender(probe);
            sender.send(watched(message, probe, ledger), response -> {
                int status = response.getStatusCode();
                if (status >= 200 && status < 300 && !ProtobufShape.isWellFormed(response.getResponseBody())) {
                    IOException bad = new IOException("HTTP " + status + " with a body that is not OTLP protobuf");
                    ledger.badResponse(this, bad.getMessage(), probe);
                    onError.accept(bad);
                    return;
                }
                if (status < 200 || status >= 300) {
                    ledger.badResponse(this, "HTTP " + status, probe);
                } else {
                    ledger.answered(this);
                }
                onResponse.accept(response);
            }, error -> {
                ledger.sendFailed(this, error, probe, tentative);
                onError.accept(error);
            });
        }

        @Override
        public CompletableResultCode shutdown() {
            return attempts.shutdown(HttpSender::shutdown);
        }

        /** Ends the exports on the wire and the client's selector thread. */
        @Override
        public void stop(List<Thread> selectors, List<Object> okHttpClients) {
            attempts.each(sender -> {
                Thread selector = SenderThreads.stopJdkClient(sender);
                if (selector != null) {
                    selectors.add(selector);
                }
            });
        }
    }

    static final class Grpc implements GrpcSender, Stoppable {
        private final GrpcSenderProvider provider;
        private final GrpcSenderConfig config;
        private final ExportLedger ledger;
        private final Attempts<GrpcSender> attempts;

        Grpc(GrpcSenderProvider provider, GrpcSenderConfig config, ExportLedger ledger) {
            this.provider = provider;
            this.config = config;
            this.ledger = ledger;
            this.attempts = new Attempts<>(provider.createSender(config), config.getRetryPolicy() == null ? null
                    : provider.createSender(new GrpcWithoutRetry(config)), ledger);
        }

        @Override
        public void send(MessageWriter message, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
            boolean probe = ledger.isProbing();
            boolean tentative = ledger.isTentativeProbe();
            GrpcSender sender = attempts.sender(probe);
            sender.send(watched(message, probe, ledger), response -> {
                if (response.getStatusCode() != GrpcStatusCode.OK) {
                    String description = response.getStatusDescription();
                    ledger.badResponse(this, "gRPC status " + response.getStatusCode()
                            + (description == null || description.isBlank() ? "" : ": " + firstLine(description)),
                            probe);
                } else {
                    ledger.answered(this);
                }
                onResponse.accept(response);
            }, error -> {
                ledger.sendFailed(this, error, probe, tentative);
                onError.accept(error);
            });
        }

        @Override
        public CompletableResultCode shutdown() {
            return attempts.shutdown(GrpcSender::shutdown);
        }

        /** Cancels the calls on the wire (the SDK's own shutdown of the sender); its connections are closed next. */
        @Override
        public void stop(List<Thread> selectors, List<Object> okHttpClients) {
            attempts.shutdown(GrpcSender::shutdown);
            attempts.each(sender -> {
                Object client = SenderThreads.okHttpClient(sender);
                if (client != null) {
                    okHttpClients.add(client);
                }
            });
        }
    }

    /**
     * A sender as the SDK configured it and, when that one retries, the same sender without retries: made at
     * start-up, on the SDK's start-up thread, since at shutdown there is no time to build a client. Once the
     * ledger is closing, and for a probe, each export is one attempt.
     */
    private record Attempts<S>(S retrying, S once, ExportLedger ledger) {
        S sender(boolean probe) {
            return once != null && (probe || ledger.isClosing()) ? once : retrying;
        }

        void each(Consumer<Object> action) {
            action.accept(retrying);
            if (once != null) {
                action.accept(once);
            }
        }

        CompletableResultCode shutdown(java.util.function.Function<S, CompletableResultCode> shutdown) {
            return once == null ? shutdown.apply(retrying)
                    : CompletableResultCode.ofAll(List.of(shutdown.apply(retrying), shutdown.apply(once)));
        }
    }

    private static String firstLine(String text) {
        String line = text.strip().lines().findFirst().orElse("");
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    /** The same HTTP sender settings, without retries. */
    private record HttpWithoutRetry(HttpSenderConfig config) implements HttpSenderConfig {
        @Override public URI getEndpoint() { return config.getEndpoint(); }
        @Override public String getContentType() { return config.getContentType(); }
        @Override public Compressor getCompressor() { return config.getCompressor(); }
        @Override public Duration getTimeout() { return config.getTimeout(); }
        @Override public Duration getConnectTimeout() { return config.getConnectTimeout(); }
        @Override public Supplier<Map<String, List<String>>> getHeadersSupplier() { return config.getHeadersSupplier(); }
        @Override public ProxyOptions getProxyOptions() { return config.getProxyOptions(); }
        @Override public RetryPolicy getRetryPolicy() { return null; }
        @Override public SSLContext getSslContext() { return config.getSslContext(); }
        @Override public X509TrustManager getTrustManager() { return config.getTrustManager(); }
        @Override public ExecutorService getExecutorService() { return config.getExecutorService(); }
        @Override public long getMaxResponseBodySize() { return config.getMaxResponseBodySize(); }
        @Override public List<String> getEnabledProtocols() { return config.getEnabledProtocols(); }
    }

    /** The same gRPC sender settings, without retries. */
    private record GrpcWithoutRetry(GrpcSenderConfig config) implements GrpcSenderConfig {
        @Override public URI getEndpoint() { return config.getEndpoint(); }
        @Override public String getFullMethodName() { return config.getFullMethodName(); }
        @Override public Compressor getCompressor() { return config.getCompressor(); }
        @Override public Duration getTimeout() { return config.getTimeout(); }
        @Override public Duration getConnectTimeout() { return config.getConnectTimeout(); }
        @Override public Supplier<Map<String, List<String>>> getHeadersSupplier() { return config.getHeadersSupplier(); }
        @Override public RetryPolicy getRetryPolicy() { return null; }
        @Override public SSLContext getSslContext() { return config.getSslContext(); }
        @Override public X509TrustManager getTrustManager() { return config.getTrustManager(); }
        @Override public ExecutorService getExecutorService() { return config.getExecutorService(); }
        @Override public long getMaxResponseBodySize() { return config.getMaxResponseBodySize(); }
        @Override public List<String> getEnabledProtocols() { return config.getEnabledProtocols(); }
    }
}
