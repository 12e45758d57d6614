package dev.tokenguard.core;

import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.Session;

/**
 * Where finished and refused calls go besides the budget and the session log: the OpenTelemetry
 * exporter plugs in here. Implementations never throw.
 */
public interface Telemetry {

    /** Trace and span id of the span a call became, as the session log records them. */
    record SpanIds(String traceId, String spanId) {
    }

    SpanIds NO_SPAN = new SpanIds(null, null);

    /**
     * Called on the calling thread when a call starts: what the sink takes along to the call's end, handed
     * back as {@code parent} (the OpenTelemetry sink: the application's current trace context that the
     * call's span will be a child of; the JFR sink: the begun event), or null.
     */
    default Object currentParent() {
        return null;
    }

    /** A call finished (successfully or not) and was charged. */
    SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent);

    /** A call was refused before it left the JVM. */
    SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent);

    /**
     * A call was refused before it left the JVM; {@code callSite} is the application frame that made it, or
     * null. Sinks that report call sites override this one.
     */
    default SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent,
                                CallerFrame callSite) {
        return callRefused(request, session, refusal, parent);
    }

    /** No telemetry. */
    Telemetry NONE = new Telemetry() {
        @Override
        public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
            return NO_SPAN;
        }

        @Override
        public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
            return NO_SPAN;
        }
    };
}
