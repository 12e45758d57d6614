package dev.tokenguard.otel;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;

/**
 * The app's current span when the LLM call was made, captured from the app's own OpenTelemetry
 * (which may be of another version than ours, hence plain values). The LLM span becomes its child.
 *
 * @param traceIdHex 32 lower-case hex digits, not all zero
 * @param spanIdHex  16 lower-case hex digits, not all zero
 * @param traceFlags the W3C trace flags byte ({@code 0x01} = sampled)
 * @param remote     whether the app's span context came from another process
 * @throws IllegalArgumentException when an id is not valid hex of the right length
 */
public record ParentSpan(String traceIdHex, String spanIdHex, byte traceFlags, boolean remote) {
    public ParentSpan {
        if (traceIdHex == null || !TraceId.isValid(traceIdHex)) {
            throw new IllegalArgumentException("parent trace id must be 32 lower-case hex digits, not all zero; got '"
                    + traceIdHex + "'");
        }
        if (spanIdHex == null || !SpanId.isValid(spanIdHex)) {
            throw new IllegalArgumentException("parent span id must be 16 lower-case hex digits, not all zero; got '"
                    + spanIdHex + "'");
        }
    }

    SpanContext toSpanContext() {
        TraceFlags flags = TraceFlags.fromByte(traceFlags);
        return remote
                ? SpanContext.createFromRemoteParent(traceIdHex, spanIdHex, flags, TraceState.getDefault())
                : SpanContext.create(traceIdHex, spanIdHex, flags, TraceState.getDefault());
    }
}
