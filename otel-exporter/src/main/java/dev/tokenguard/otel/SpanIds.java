package dev.tokenguard.otel;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ids of the span {@link GenAiTelemetry#record} created, as lower-case hex, for the
 * {@code trace_id} and {@code span_id} fields of the session log.
 *
 * @param traceId 32 hex digits
 * @param spanId  16 hex digits
 */
public record SpanIds(String traceId, String spanId) {
    private static final HexFormat HEX = HexFormat.of();

    /**
     * New random ids for a span to be {@linkplain GenAiTelemetry#record(GenAiCall, SpanIds) recorded later}; the
     * trace id is the parent's when there is one. Cheap, and loads no OTel class, so a call can take its ids
     * while the SDK is still starting.
     */
    public static SpanIds random(ParentSpan parent) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String traceId = parent != null ? parent.traceIdHex() : nonZeroHex(random, 16);
        return new SpanIds(traceId, nonZeroHex(random, 8));
    }

    private static String nonZeroHex(ThreadLocalRandom random, int bytes) {
        byte[] id = new byte[bytes];
        boolean zero = true;
        while (zero) {
            random.nextBytes(id);
            for (byte b : id) {
                zero &= b == 0;
            }
        }
        return HEX.formatHex(id);
    }
}
