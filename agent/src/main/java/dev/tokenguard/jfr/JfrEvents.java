package dev.tokenguard.jfr;

import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.LimitKind;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.ThresholdCrossing;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.CallerFrame;
import jdk.jfr.EventType;

/**
 * The only class that touches the event classes (loading it loads them: the verifier checks them against
 * {@code jdk.jfr.Event}). {@link JfrTelemetry} calls it only once Flight Recorder has been initialized in this
 * JVM (a recording was started), never before, so a JVM that never records loads no event class.
 */
final class JfrEvents {
    private JfrEvents() {
    }

    /**
     * The {@code LlmCall} event's type: whether a running recording enables it is one field read, so a call makes no
     * event object while none does.
     */
    private static final EventType CALL = EventType.getEventType(LlmCallEvent.class);

    /** An {@code LlmCall} event begun now, or null when no recording takes it. */
    static Object beginCall() {
        if (!CALL.isEnabled()) {
            return null;
        }
        LlmCallEvent event = new LlmCallEvent();
        event.begin();
        return event;
    }

    static void callFinished(Object begun, CallRecord record, String scope, ChargeResult charge) {
        LlmCallEvent event = begun instanceof LlmCallEvent e ? e : CALL.isEnabled() ? new LlmCallEvent() : null;
        if (event != null && event.isEnabled()) {
            event.end();
            if (event.shouldCommit()) {
                event.provider = record.provider();
                event.operation = record.operation();
                event.requestModel = record.requestModel();
                event.responseModel = record.responseModel();
                event.inputTokens = record.inputTokens() == null ? -1 : record.inputTokens();
                event.outputTokens = record.outputTokens() == null ? -1 : record.outputTokens();
                event.costUsd = record.costUsd() == null ? Double.NaN : record.costUsd();
                event.scope = scope;
                event.usageSource = record.usageSource() == null ? null : record.usageSource().wireName();
                event.streaming = record.streaming();
                event.status = record.status();
                event.errorType = record.errorType();
                event.callSite = record.callSite() == null ? null : record.callSite().toString();
                event.commit();
            }
        }
        java.util.List<ThresholdCrossing> crossings = charge.crossings();
        for (int c = 0; c < crossings.size(); c++) { // by index: no iterator per call when there is none
            ThresholdCrossing crossing = crossings.get(c);
            BudgetWarningEvent warning = new BudgetWarningEvent();
            if (!warning.isEnabled()) {
                break;
            }
            warning.budget = crossing.budgetName();
            warning.scope = crossing.scopeKey();
            warning.threshold = crossing.threshold();
            warning.used = crossing.used();
            warning.limit = crossing.limit();
            warning.unit = unit(crossing.kind());
            warning.commit();
        }
    }

    static void callRefused(CallRequest request, Refusal refusal, CallerFrame callSite) {
        BudgetRefusalEvent event = new BudgetRefusalEvent();
        if (!event.isEnabled()) {
            return;
        }
        event.budget = refusal.budgetName();
        event.scope = refusal.scopeKey();
        event.used = refusal.used();
        event.limit = refusal.limit();
        event.unit = unit(refusal.kind());
        event.provider = request.provider();
        event.operation = request.operation();
        event.requestModel = request.requestModel();
        event.callSite = callSite == null ? null : callSite.toString();
        event.commit();
    }

    private static String unit(LimitKind kind) {
        return kind.isTokens() ? "tokens" : "nano-USD";
    }
}
