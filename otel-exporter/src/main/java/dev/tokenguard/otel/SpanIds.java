package dev.tokenguard.otel;

/**
 * The ids of the span {@link GenAiTelemetry#record} created, as lower-case hex, for the
 * {@code trace_id} and {@code span_id} fields of the session log.
 *
 * @param traceId 32 hex digits
 * @param spanId  16 hex digits
 */
public record SpanIds(String traceId, String spanId) {
}
