package dev.tokenguard.control;

import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.Telemetry;

import java.util.concurrent.atomic.LongAdder;

/** Counts the calls, refusals and threshold warnings of this JVM since start-up, for {@code status} and JMX. */
public final class CallCounts implements Telemetry {
    private final LongAdder calls = new LongAdder();
    private final LongAdder refusals = new LongAdder();
    private final LongAdder warnings = new LongAdder();

    @Override
    public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
        calls.increment();
        if (charge != null) {
            warnings.add(charge.crossings().size());
        }
        return NO_SPAN;
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
        refusals.increment();
        return NO_SPAN;
    }

    public long calls() {
        return calls.sum();
    }

    public long refusals() {
        return refusals.sum();
    }

    public long warnings() {
        return warnings.sum();
    }
}
