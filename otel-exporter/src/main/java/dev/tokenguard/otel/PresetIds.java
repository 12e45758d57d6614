package dev.tokenguard.otel;

import io.opentelemetry.sdk.trace.IdGenerator;

/**
 * Span ids chosen before the span exists. A call that ends while the SDK is still starting gets its ids at
 * once (the session log records them), and its span is made later, on another thread, with those ids: the
 * SDK's id generator hands out the preset ids of the current thread, or random ones as usual.
 */
final class PresetIds implements IdGenerator {
    private static final ThreadLocal<SpanIds> NEXT = new ThreadLocal<>();
    private final IdGenerator random = IdGenerator.random();

    /** Runs {@code action} with {@code ids} as the ids of the span it starts on this thread. */
    static <T> T with(SpanIds ids, java.util.function.Supplier<T> action) {
        if (ids == null) {
            return action.get();
        }
        NEXT.set(ids);
        try {
            return action.get();
        } finally {
            NEXT.remove();
        }
    }

    @Override
    public String generateSpanId() {
        SpanIds next = NEXT.get();
        return next != null ? next.spanId() : random.generateSpanId();
    }

    @Override
    public String generateTraceId() {
        SpanIds next = NEXT.get();
        return next != null ? next.traceId() : random.generateTraceId();
    }

    @Override
    public boolean generatesRandomTraceIds() {
        return true;
    }
}
