package dev.tokenguard.core;

import dev.tokenguard.budget.CallScope;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One governed call between {@link Governor#begin} and its end. It is finished exactly once,
 * whichever of the response, the stream's end, a close or a failure comes first.
 */
public final class LlmCall {
    private final Governor governor;
    private final CallRequest request;
    private final CallScope scope;
    private final Instant start;
    private final long startNanos;
    private final AtomicBoolean finished = new AtomicBoolean();

    LlmCall(Governor governor, CallRequest request, CallScope scope, Instant start, long startNanos) {
        this.governor = governor;
        this.request = request;
        this.scope = scope;
        this.start = start;
        this.startNanos = startNanos;
    }

    /** Finishes the call with what the response reported. Later calls do nothing. */
    public void finish(Usage usage) {
        if (finished.compareAndSet(false, true)) {
            governor.finish(this, usage == null ? Usage.UNKNOWN : usage, null);
        }
    }

    /** Finishes the call as failed, with whatever usage is known. Later calls do nothing. */
    public void fail(Throwable error, Usage usage) {
        if (finished.compareAndSet(false, true)) {
            governor.finish(this, usage == null ? Usage.UNKNOWN : usage, error);
        }
    }

    public boolean isFinished() {
        return finished.get();
    }

    public CallRequest request() {
        return request;
    }

    CallScope scope() {
        return scope;
    }

    Instant start() {
        return start;
    }

    long startNanos() {
        return startNanos;
    }
}
