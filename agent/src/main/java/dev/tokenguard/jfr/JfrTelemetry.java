package dev.tokenguard.jfr;

import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.CallerFrame;
import dev.tokenguard.core.Telemetry;

/**
 * Hands calls, warnings and refusals to JDK Flight Recorder as the events {@code dev.tokenguard.LlmCall},
 * {@code dev.tokenguard.BudgetWarning} and {@code dev.tokenguard.BudgetRefusal} (category TokenGuard in JDK
 * Mission Control).
 *
 * <p>Costs nothing until a recording is started: on a runtime without the {@code jdk.jfr} module it does
 * nothing at all; otherwise each call asks {@code FlightRecorder.isInitialized()} (a static field read), and
 * the event classes are loaded only once Flight Recorder was started in this JVM. From then on each event
 * is created and filled only when a recording has it enabled ({@code isEnabled()}). An {@code LlmCall} event
 * begins when the call is admitted, on the calling thread, and is committed when the call ends.
 */
public final class JfrTelemetry implements Telemetry {
    private final boolean available;

    private JfrTelemetry(boolean available) {
        this.available = available;
    }

    /** The JFR sink of this runtime: one that does nothing when the runtime has no {@code jdk.jfr} module. */
    public static JfrTelemetry create() {
        return new JfrTelemetry(ModuleLayer.boot().findModule("jdk.jfr").isPresent());
    }

    private boolean recording() {
        return available && FlightRecorderState.initialized();
    }

    @Override
    public Object currentParent() {
        try {
            return recording() ? JfrEvents.beginCall() : null;
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("jfr", e);
            return null;
        }
    }

    @Override
    public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
        try {
            if (recording()) {
                String scope = charge.size() == 0 ? (session == null ? null : session.scopeKey())
                        : charge.scopeKey(0);
                JfrEvents.callFinished(parent, record, scope, charge);
            }
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("jfr", e);
        }
        return NO_SPAN;
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
        return callRefused(request, session, refusal, parent, null);
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent,
                               CallerFrame callSite) {
        try {
            if (recording()) {
                JfrEvents.callRefused(request, refusal, callSite);
            }
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("jfr", e);
        }
        return NO_SPAN;
    }
}
