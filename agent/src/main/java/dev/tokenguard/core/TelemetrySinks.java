package dev.tokenguard.core;

import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.Session;

import java.util.ArrayList;
import java.util.List;

/**
 * The list of sinks every finished or refused call goes to besides the budget and the session log
 * (OpenTelemetry, JFR). Each sink gets back, at the call's end, what it took along at the call's start
 * ({@link Telemetry#currentParent()}); the span ids the session log records are the first sink's that
 * has any. One sink's failure never keeps a call from the others: sinks never throw, and this list
 * catches what one throws anyway.
 */
public final class TelemetrySinks implements Telemetry {
    private final Telemetry[] sinks;

    private TelemetrySinks(List<Telemetry> sinks) {
        this.sinks = sinks.toArray(new Telemetry[0]);
    }

    /** The sinks as one; the only sink itself when there is one, {@link Telemetry#NONE} when none. */
    public static Telemetry of(List<Telemetry> sinks) {
        List<Telemetry> real = new ArrayList<>();
        for (Telemetry s : sinks) {
            if (s != null && s != NONE) {
                real.add(s);
            }
        }
        if (real.isEmpty()) {
            return NONE;
        }
        return real.size() == 1 ? real.get(0) : new TelemetrySinks(real);
    }

    @Override
    public Object currentParent() {
        Object[] parents = null; // made once a sink takes something along: none does, no array per call
        for (int i = 0; i < sinks.length; i++) {
            try {
                Object parent = sinks[i].currentParent();
                if (parent != null) {
                    if (parents == null) {
                        parents = new Object[sinks.length];
                    }
                    parents[i] = parent;
                }
            } catch (RuntimeException | LinkageError e) {
                AgentLog.failure("telemetry.start", e);
            }
        }
        return parents;
    }

    private static Object parent(Object parents, int i) {
        return parents instanceof Object[] array && i < array.length ? array[i] : null;
    }

    @Override
    public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
        SpanIds ids = NO_SPAN;
        for (int i = 0; i < sinks.length; i++) {
            try {
                SpanIds sinkIds = sinks[i].callFinished(record, session, charge, parent(parent, i));
                if (ids == NO_SPAN && sinkIds != null && sinkIds.spanId() != null) {
                    ids = sinkIds;
                }
            } catch (RuntimeException | LinkageError e) {
                AgentLog.failure("telemetry.finish", e);
            }
        }
        return ids;
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
        return callRefused(request, session, refusal, parent, null);
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent,
                               CallerFrame callSite) {
        SpanIds ids = NO_SPAN;
        for (int i = 0; i < sinks.length; i++) {
            try {
                SpanIds sinkIds = sinks[i].callRefused(request, session, refusal, parent(parent, i), callSite);
                if (ids == NO_SPAN && sinkIds != null && sinkIds.spanId() != null) {
                    ids = sinkIds;
                }
            } catch (RuntimeException | LinkageError e) {
                AgentLog.failure("telemetry.refuse", e);
            }
        }
        return ids;
    }
}
