package dev.tokenguard.core;

import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.Reservation;

import java.time.Instant;

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
    /** Set once, by the first of {@link #finish} and {@link #fail} ({@link #FINISHED}: no atomic object per call). */
    private volatile boolean finished;
    private static final java.lang.invoke.VarHandle FINISHED;

    static {
        try {
            FINISHED = java.lang.invoke.MethodHandles.lookup().findVarHandle(LlmCall.class, "finished", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private final String notice;
    private final boolean capturesContent;
    private volatile String promptContent;
    private volatile boolean noticeInjected;
    private volatile String completionContent;
    private final Object parent;
    private final CallerFrame callSite;
    private final Reservation reservation;
    /** What is known of the call's usage so far, for a JVM that shuts down while it is in flight; or null. */
    private volatile java.util.function.Supplier<Usage> soFar;
    /** The call's id in {@link CallsInFlight}. */
    volatile Object inFlightId;
    /** The call's standing with the shared-budget store, or null when there is none. */
    private volatile dev.tokenguard.budget.store.SharedBudgets.Ticket sharedTicket;

    LlmCall(Governor governor, CallRequest request, CallScope scope, Instant start, long startNanos, String notice,
            boolean capturesContent, Object parent, CallerFrame callSite) {
        this(governor, request, scope, start, startNanos, notice, capturesContent, parent, callSite, null);
    }

    LlmCall(Governor governor, CallRequest request, CallScope scope, Instant start, long startNanos, String notice,
            boolean capturesContent, Object parent, CallerFrame callSite, Reservation reservation) {
        this.reservation = reservation;
        this.parent = parent;
        this.callSite = callSite;
        this.governor = governor;
        this.request = request;
        this.scope = scope;
        this.start = start;
        this.startNanos = startNanos;
        this.notice = notice;
        this.capturesContent = capturesContent;
    }

    /**
     * The budget notice this request should carry as a system message ({@code warnings.inject}),
     * or null.
     */
    public String notice() {
        return notice;
    }

    /** The request went out carrying {@link #notice()}. */
    public void noticeInjected() {
        this.noticeInjected = true;
    }

    boolean wasNoticeInjected() {
        return noticeInjected;
    }

    /** Whether the session log records this call's prompt and completion. */
    public boolean capturesContent() {
        return capturesContent;
    }

    /** The call's prompt, for the session log when content is captured. */
    public void prompt(String prompt) {
        this.promptContent = prompt;
    }

    /** The call's completion, for the session log when content is captured. */
    public void completion(String completion) {
        this.completionContent = completion;
    }

    void sharedTicket(dev.tokenguard.budget.store.SharedBudgets.Ticket ticket) {
        this.sharedTicket = ticket;
    }

    dev.tokenguard.budget.store.SharedBudgets.Ticket sharedTicket() {
        return sharedTicket;
    }

    /** What the call reserved, or null when reservation is off. */
    Reservation reservation() {
        return reservation;
    }

    Object parent() {
        return parent;
    }

    /** The application frame that made the call, or null when unknown or not looked for. */
    public CallerFrame callSite() {
        return callSite;
    }

    String promptContent() {
        return promptContent;
    }

    String completionContent() {
        return completionContent;
    }

    /**
     * Tells the call how to work out its usage so far (e.g. a stream's text read until now), should the JVM shut
     * down before it ends; without it such a call is charged what it reserved, marked estimated.
     */
    public void usageSoFar(java.util.function.Supplier<Usage> supplier) {
        this.soFar = supplier;
    }

    java.util.function.Supplier<Usage> usageSoFar() {
        return soFar;
    }

    /** Finishes the call with what the response reported. Later calls do nothing. */
    public void finish(Usage usage) {
        if (FINISHED.compareAndSet(this, false, true)) {
            governor.finish(this, usage == null ? Usage.UNKNOWN : usage, null);
        }
    }

    /** Finishes the call as failed, with whatever usage is known. Later calls do nothing. */
    public void fail(Throwable error, Usage usage) {
        if (FINISHED.compareAndSet(this, false, true)) {
            governor.finish(this, usage == null ? Usage.UNKNOWN : usage, error);
        }
    }

    public boolean isFinished() {
        return finished;
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
