package dev.tokenguard.otel;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdkBuilder;
import io.opentelemetry.sdk.autoconfigure.internal.AutoConfigureUtil;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * TokenGuard's own OpenTelemetry SDK, configured like any OTel SDK from the standard {@code otel.*}
 * system properties and {@code OTEL_*} environment variables (SDK autoconfigure), and kept apart from
 * the app's: it is never registered as {@code GlobalOpenTelemetry}.
 *
 * <p>Export is on only when an OTLP endpoint is configured ({@code otel.exporter.otlp.endpoint},
 * {@code otel.exporter.otlp.traces.endpoint} or {@code otel.exporter.otlp.metrics.endpoint}, or their
 * {@code OTEL_EXPORTER_OTLP_*ENDPOINT} variables). Otherwise {@link #start()} returns a no-op
 * {@link OpenTelemetry}: nothing is sent, nothing is logged, no thread is started.
 *
 * <p>Both OTLP protocols work: {@code http/protobuf} is sent with the JDK's own {@code HttpClient} (the
 * only HTTP sender the SDK is offered, even where OkHttp's is on the class path too), {@code grpc} with
 * OTel's OkHttp gRPC sender (relocated with OkHttp and Kotlin inside the agent jar, so the app's own
 * OkHttp is untouched). Any other protocol ({@code http/json}) disables export and {@link #problem()} says
 * why. Where the user did not say otherwise, TokenGuard defaults to: protocol {@code http/protobuf}
 * (the OTel SDK's own default is gRPC), export timeout 5 s, batch span processor export timeout 10 s and
 * schedule delay 1 s (OTel's: 5 s),
 * logs exporter {@code none}, and no exporter for a signal that has no endpoint of its own when only
 * signal-specific endpoints are given. The service name is {@code otel.service.name} /
 * {@code OTEL_SERVICE_NAME}, else OTel's {@code unknown_service:java}.
 *
 * <p>Constructing an {@code OtelSetup} only reads the two maps (no OTel class is loaded). {@link #start()}
 * does the work: it loads the SDK classes and SPI providers, detects the resource and starts one
 * batch-span-processor thread and one periodic-metric-reader thread, about half a second on a cold JVM
 * (measured from the shaded agent jar), mostly class loading. Call it from a background thread, off the
 * app's startup path.
 * Exports are asynchronous with a bounded queue (2048 spans by default), so an endpoint that is down or
 * hangs drops telemetry but never slows the app. Call {@link #shutdown(Duration)} at JVM shutdown to
 * flush; the SDK's own shutdown hook is not registered.
 */
public final class OtelSetup {

    static final List<String> ENDPOINT_KEYS = List.of("otel.exporter.otlp.endpoint",
            "otel.exporter.otlp.traces.endpoint", "otel.exporter.otlp.metrics.endpoint");
    private static final String PROTOCOL_KEY = "otel.exporter.otlp.protocol";
    private static final String HTTP_PROTOBUF = "http/protobuf";
    private static final String GRPC = "grpc";
    /** How often the exit flush looks again at the endpoint's health while it waits. */
    private static final long HEALTH_RECHECK_MILLIS = 20;

    private final Map<String, String> properties;
    private final boolean enabled;
    private String problem;
    private OpenTelemetrySdk sdk;
    private OpenTelemetry openTelemetry;
    private Logger sdkLogger; // strong reference: JUL forgets the settings of unreferenced loggers
    private final ExportLedger ledger = new ExportLedger();
    /** The SDK's own exporters (before our counting wrappers), for {@link #warmUp()}. */
    private final List<SpanExporter> spanExporters = new CopyOnWriteArrayList<>();
    private final List<MetricExporter> metricExporters = new CopyOnWriteArrayList<>();
    private volatile long lastShutdownMillis;
    private WatchedSenders senders;

    private OtelSetup(Map<String, String> properties, boolean enabled, String problem) {
        this.properties = properties;
        this.enabled = enabled;
        this.problem = problem;
    }

    /** {@link #fromEnvironment} with this JVM's system properties and environment. */
    public static OtelSetup fromSystem() {
        Map<String, String> systemProperties = new HashMap<>();
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("otel.")) {
                systemProperties.put(name, System.getProperty(name));
            }
        }
        return fromEnvironment(systemProperties, System.getenv());
    }

    /**
     * Reads the OTel configuration; cheap (no SDK class is loaded, nothing is started).
     *
     * @param systemProperties the {@code otel.*} system properties (usually {@code System.getProperties()}
     *                         as a map); these win over the environment
     * @param environment      the environment variables (usually {@code System.getenv()})
     */
    public static OtelSetup fromEnvironment(Map<String, String> systemProperties, Map<String, String> environment) {
        Objects.requireNonNull(systemProperties, "systemProperties must not be null; pass Map.of() for none");
        Objects.requireNonNull(environment, "environment must not be null; pass Map.of() for none");
        Map<String, String> properties = new LinkedHashMap<>();
        // lowest precedence first: our defaults, then the environment, then system properties
        environment.forEach((key, value) -> {
            if (key != null && value != null && key.startsWith("OTEL_")) {
                properties.put(key.toLowerCase(Locale.ROOT).replace('_', '.'), value);
            }
        });
        systemProperties.forEach((key, value) -> {
            if (key != null && value != null && key.startsWith("otel.")) {
                properties.put(key.toLowerCase(Locale.ROOT).replace('-', '.'), value);
            }
        });
        properties.values().removeIf(String::isBlank);

        if ("true".equalsIgnoreCase(properties.get("otel.sdk.disabled"))) {
            return new OtelSetup(Map.of(), false, null);
        }
        boolean general = properties.containsKey(ENDPOINT_KEYS.get(0));
        boolean traces = properties.containsKey(ENDPOINT_KEYS.get(1));
        boolean metrics = properties.containsKey(ENDPOINT_KEYS.get(2));
        if (!general && !traces && !metrics) {
            return new OtelSetup(Map.of(), false, null);
        }
        for (String key : List.of(PROTOCOL_KEY, "otel.exporter.otlp.traces.protocol",
                "otel.exporter.otlp.metrics.protocol")) {
            String protocol = properties.get(key);
            if (protocol != null && !protocol.equals(HTTP_PROTOBUF) && !protocol.equals(GRPC)) {
                return new OtelSetup(Map.of(), false, "OpenTelemetry export is off: " + key + "=" + protocol
                        + " is not supported; TokenGuard exports OTLP over " + HTTP_PROTOBUF + " or " + GRPC
                        + ". Set " + key + " (OTEL_" + key.substring(5).replace('.', '_').toUpperCase(Locale.ROOT)
                        + ") to " + HTTP_PROTOBUF + " (collector port usually 4318) or " + GRPC
                        + " (usually 4317)");
            }
        }
        Map<String, String> withDefaults = new HashMap<>();
        withDefaults.put(PROTOCOL_KEY, HTTP_PROTOBUF);
        withDefaults.put("otel.exporter.otlp.timeout", "5000");
        withDefaults.put("otel.bsp.export.timeout", "10000");
        // spans leave within a second instead of five: a short-lived JVM then exports while it runs, so the one
        // flush at exit finds the export path loaded and the endpoint's state known
        withDefaults.put("otel.bsp.schedule.delay", "1000");
        withDefaults.put("otel.logs.exporter", "none");
        if (!general && !traces) {
            withDefaults.put("otel.traces.exporter", "none");
        }
        if (!general && !metrics) {
            withDefaults.put("otel.metrics.exporter", "none");
        }
        withDefaults.putAll(properties);
        return new OtelSetup(Map.copyOf(withDefaults), true, null);
    }

    /** Whether an endpoint is configured and supported, so that {@link #start()} builds a real SDK. */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Why export is off although the user asked for it (unsupported protocol, or a configuration the
     * SDK rejected at {@link #start()}); one line for the agent to print once. Empty otherwise.
     */
    public synchronized Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** The effective {@code otel.*} properties the SDK is built from (defaults included). */
    Map<String, String> properties() {
        return properties;
    }

    /**
     * Builds the SDK on first call (see the class comment for the cost) and returns it; later calls
     * return the same instance. Returns {@link OpenTelemetry#noop()} when export is off or the SDK
     * rejected the configuration (then {@link #problem()} says why). Never throws. The SDK's own
     * {@code java.util.logging} output is left as it is; see {@link #start(Consumer)}.
     */
    public synchronized OpenTelemetry start() {
        if (openTelemetry != null) {
            return openTelemetry;
        }
        if (!enabled) {
            openTelemetry = OpenTelemetry.noop();
            return openTelemetry;
        }
        try {
            senders = new WatchedSenders(new JdkHttpSenderOnly(
                    ComponentLoader.forClassLoader(OtelSetup.class.getClassLoader())), ledger);
            ComponentLoader components = senders;
            AutoConfiguredOpenTelemetrySdkBuilder builder = AutoConfiguredOpenTelemetrySdk.builder()
                    .disableShutdownHook()
                    .setComponentLoader(components)
                    .addTracerProviderCustomizer((tracers, config) -> tracers.setIdGenerator(new PresetIds())
                            .addSpanProcessor(new LedgerExporters.EndedSpans(ledger)))
                    .addSpanExporterCustomizer((exporter, config) -> {
                        spanExporters.add(exporter);
                        return new LedgerExporters.Spans(exporter, ledger);
                    })
                    .addMetricExporterCustomizer((exporter, config) -> {
                        metricExporters.add(exporter);
                        return new LedgerExporters.Metrics(exporter, ledger);
                    });
            // our maps are the whole configuration: the SDK must not read System properties or env itself
            AutoConfigureUtil.setConfigPropertiesCustomizer(builder,
                    ignored -> DefaultConfigProperties.create(properties, components));
            sdk = builder.build().getOpenTelemetrySdk();
            openTelemetry = sdk;
        } catch (RuntimeException | LinkageError e) {
            problem = "OpenTelemetry export is off: the otel.* / OTEL_* configuration was rejected: "
                    + withoutHeaderValues(String.valueOf(e.getMessage()));
            openTelemetry = OpenTelemetry.noop();
        }
        return openTelemetry;
    }

    /**
     * The SDK's service loading, except that the JDK sender is the only {@link HttpSenderProvider}: OkHttp's
     * (which comes with the gRPC sender) is hidden, so http/protobuf never runs on OkHttp and the SDK never
     * warns about a choice between two HTTP senders. The OTel way to choose, a JVM-wide system property,
     * would reach into the app's own OTel SDK too.
     */
    static final class JdkHttpSenderOnly implements ComponentLoader {
        private final ComponentLoader delegate;

        JdkHttpSenderOnly(ComponentLoader delegate) {
            this.delegate = delegate;
        }

        @Override
        public <T> Iterable<T> load(Class<T> spiClass) {
            Iterable<T> providers = delegate.load(spiClass);
            if (spiClass != HttpSenderProvider.class) {
                return providers;
            }
            List<T> jdkOnly = new ArrayList<>();
            for (T provider : providers) {
                if (provider instanceof JdkHttpSenderProvider) {
                    jdkOnly.add(provider);
                }
            }
            return jdkOnly;
        }
    }

    /** Header values (API keys, auth tokens) never reach a message, whatever the SDK puts in its own. */
    private String withoutHeaderValues(String message) {
        String safe = message;
        for (Map.Entry<String, String> entry : properties.entrySet()) {
            if (entry.getKey().endsWith(".headers")) {
                safe = safe.replace(entry.getValue(), "<redacted>");
                for (String header : entry.getValue().split(",")) {
                    int equals = header.indexOf('=');
                    String value = header.substring(equals + 1).trim();
                    if (!value.isEmpty()) {
                        safe = safe.replace(value, "<redacted>");
                    }
                }
            }
        }
        return safe;
    }

    /**
     * Like {@link #start()}, but first takes over the OTel SDK's own {@code java.util.logging} output
     * (export failures, retries, configuration notes): nothing of it reaches the app's console. The first
     * problem, an export that failed (heard from this SDK's own senders, after their retries) or a warning of
     * the SDK's, is handed to {@code problems} as one line, once ("collector down" is then reported once, not
     * every few seconds); none after {@link #shutdown(Duration)} began, whose {@link #undeliveredReport()}
     * says what was lost. Meant for the agent, whose copy of the SDK is relocated, so this touches only
     * TokenGuard's own SDK loggers. Does nothing to logging when export is off.
     *
     * @param problems receives at most one line; exceptions it throws are ignored
     */
    public synchronized OpenTelemetry start(Consumer<String> problems) {
        if (enabled && openTelemetry == null && sdkLogger == null) {
            String api = OpenTelemetry.class.getPackageName(); // "io.opentelemetry.api", maybe relocated
            sdkLogger = Logger.getLogger(api.substring(0, api.lastIndexOf('.')));
            sdkLogger.setUseParentHandlers(false);
            sdkLogger.setLevel(Level.WARNING);
            ledger.reportTo(problems);
            sdkLogger.addHandler(new ReportOnce(sdkLogger.getName(), ledger));
        }
        return start();
    }

    /**
     * Hands the first warning-or-worse record of the SDK's own (a configuration note, an internal error) to the
     * ledger's once-only report, as one line; drops everything else. Export failures are left to the ledger,
     * which hears them from this SDK's own senders: the exporters' log records come through one JVM-wide
     * logger and could be another SDK's (tests build several; an abandoned one may still be retrying).
     */
    private static final class ReportOnce extends Handler {
        private final List<String> exportLoggers;
        private final ExportLedger ledger;

        ReportOnce(String root, ExportLedger ledger) {
            this.exportLoggers = List.of(root + ".exporter.", root + ".sdk.trace.export.",
                    root + ".sdk.metrics.export.");
            this.ledger = ledger;
        }

        @Override
        public void publish(LogRecord record) {
            if (record == null || record.getLevel().intValue() < Level.WARNING.intValue()) {
                return;
            }
            String logger = String.valueOf(record.getLoggerName());
            for (String prefix : exportLoggers) {
                if (logger.startsWith(prefix)) {
                    return;
                }
            }
            try {
                String message = new SimpleFormatter().formatMessage(record).replaceAll("\\s+", " ").trim();
                Throwable thrown = record.getThrown();
                if (thrown != null) {
                    message += " (" + thrown.getClass().getName()
                            + (thrown.getMessage() == null ? "" : ": " + thrown.getMessage()) + ")";
                }
                ledger.reportOnce(message);
            } catch (RuntimeException ignored) {
                // never break the thread that logged
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /**
     * Sends each exporter one empty export request (an {@code ExportTraceServiceRequest} or
     * {@code ExportMetricsServiceRequest} with nothing in it: valid OTLP, which a collector answers with success)
     * and returns at once. This builds the export path (marshalers, HTTP or gRPC client, connection) while the
     * JVM runs, instead of in the one flush at exit, and tells {@link #shutdown(ExitFlush)} whether the endpoint
     * answers: answered, refused, no answer within the export timeout, or a bad answer. Each of these exports is
     * one attempt without retry; a failure is noted, not reported (the first real export that fails is). When
     * the first probe gets no answer in time (this JVM may have been too busy starting to send it), a second
     * one is sent and only its timeout counts as trouble. Does nothing when export is off, not started, or
     * already shutting down.
     *
     * @return completes when every probe (the second included) has its answer or failure (never fails itself)
     */
    public CompletableResultCode warmUp() {
        synchronized (this) {
            if (sdk == null || ledger.isClosing()) {
                return CompletableResultCode.ofSuccess();
            }
        }
        CompletableResultCode all = new CompletableResultCode();
        CompletableResultCode first = probeEveryExporter(true);
        first.whenComplete(() -> {
            if (!ledger.tentativeProbeTimedOut() || ledger.isClosing()) {
                all.succeed();
                return;
            }
            // the first probe may have timed out only because this JVM was starting: ask once more, from a
            // thread of our own (this is the SDK's sender thread)
            Thread again = new Thread(() -> probeEveryExporter(false).whenComplete(all::succeed),
                    "tokenguard-otel-warm-up");
            again.setDaemon(true);
            again.start();
        });
        return all;
    }

    private CompletableResultCode probeEveryExporter(boolean tentative) {
        List<CompletableResultCode> probes = new ArrayList<>();
        ledger.probing(tentative, () -> {
            for (SpanExporter exporter : spanExporters) {
                probes.add(probe(() -> exporter.export(List.of())));
            }
            for (MetricExporter exporter : metricExporters) {
                probes.add(probe(() -> exporter.export(List.of())));
            }
        });
        return CompletableResultCode.ofAll(probes);
    }

    private static CompletableResultCode probe(java.util.function.Supplier<CompletableResultCode> export) {
        try {
            return export.get();
        } catch (RuntimeException e) {
            return CompletableResultCode.ofFailure();
        }
    }

    /** What the endpoint did with the exports so far (see {@link ExportLedger#health()}). */
    ExportLedger.Health endpointHealth() {
        return ledger.health();
    }

    /** {@link #shutdown(ExitFlush)} with the same deadline whatever the endpoint did. */
    public boolean shutdown(Duration timeout) {
        return shutdown(ExitFlush.always(timeout));
    }

    /**
     * Flushes and stops the SDK, waiting at most the deadline {@code deadlines} gives for the endpoint's
     * health: what it did with the last exports (the {@linkplain #warmUp() warm-up} included), looked at again
     * while the flush runs, so an endpoint whose first answer arrives during the flush gets its longer deadline,
     * and one that fails meanwhile its shorter one. From the moment it is called each export is a single attempt
     * (no retry, no backoff) and the SDK's own warnings are no longer reported; {@link #undeliveredReport()} then
     * says, in one line, what was lost. The SDK's own shutdown can block for longer (an endpoint that never
     * answers holds an export for the whole export timeout), so it runs on a daemon thread that is left behind
     * when the time is up. Then, in every case, what is still on the wire is dropped and the senders' HTTP clients
     * stop their I/O threads ({@link WatchedSenders#stopAll()}), which the JVM's exit would otherwise wait for.
     *
     * @return {@code true} when everything was flushed and stopped in time (or nothing was started)
     */
    public boolean shutdown(ExitFlush deadlines) {
        OpenTelemetrySdk started;
        WatchedSenders watched;
        synchronized (this) {
            started = sdk;
            watched = senders;
        }
        if (started == null) {
            return true;
        }
        try {
            return flush(started, deadlines);
        } finally {
            // what is still on the wire is dropped now, and no client thread is left in a socket call: the JVM's
            // exit would wait for it (see SenderThreads)
            watched.stopAll();
        }
    }

    private boolean flush(OpenTelemetrySdk started, ExitFlush deadlines) {
        long begun = System.nanoTime();
        ledger.closing();
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean success = new AtomicBoolean();
        Thread stopper = new Thread(() -> {
            try {
                // the SDK's own bound is only a backstop: the wait below decides
                success.set(started.shutdown().join(deadlines.answering().toMillis() + 1000, TimeUnit.MILLISECONDS)
                        .isSuccess());
            } finally {
                done.countDown();
            }
        }, "tokenguard-otel-shutdown");
        stopper.setDaemon(true);
        stopper.start();
        try {
            while (true) {
                long allowed = Math.max(1, deadlines.forHealth(ledger.health()).toMillis());
                lastShutdownMillis = allowed;
                long left = begun + TimeUnit.MILLISECONDS.toNanos(allowed) - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                // the health can change while the flush runs (its own exports answer or fail): look again soon
                if (done.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(HEALTH_RECHECK_MILLIS)),
                        TimeUnit.NANOSECONDS)) {
                    return success.get();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * After {@link #shutdown(Duration)}: one line saying how many spans and metric points never reached the
     * endpoint and why (refused, no answer, an answer that is not OTLP), or empty when all arrived or export
     * was off. No stack trace, no header value.
     */
    public Optional<String> undeliveredReport() {
        synchronized (this) {
            if (sdk == null) {
                return Optional.empty();
            }
        }
        return ledger.undelivered(endpoint(), lastShutdownMillis);
    }

    /**
     * The configured endpoint, for messages: the general one, else the traces one, else the metrics one; without
     * user info (a password in the URL is never printed).
     */
    private String endpoint() {
        for (String key : ENDPOINT_KEYS) {
            String value = properties.get(key);
            if (value != null) {
                return value.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", "$1");
            }
        }
        return "the OTLP endpoint";
    }
}
