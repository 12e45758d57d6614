package dev.tokenguard.otel;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What became of the telemetry this SDK was given: spans ended, spans and metric points the endpoint took,
 * the ones it did not, the ones still on the wire, and why the last failure happened. It is how the agent
 * can say, in one line at JVM exit, how much it could not deliver and why, instead of letting the SDK log
 * every failed batch.
 *
 * <p>It also knows the endpoint's {@linkplain #health() health}: whether it answered the last export each
 * sender made (the warm-up's empty one included), failed it, or has not answered any yet. The one flush at JVM
 * exit is given more time for an endpoint that answers than for one in trouble.
 *
 * <p>Once {@link #closing()} is called (JVM shutdown) the senders stop retrying and the SDK's own
 * warnings are no longer reported: the shutdown line says it all.
 */
final class ExportLedger {
    /** What the endpoint did with the exports it was sent. */
    enum Health {
        /** Every sender's last export was answered with success. */
        ANSWERING,
        /**
         * No export has been answered or has failed yet, and the endpoint has not been silent for long: it may be
         * slow, or this JVM may not have sent anything yet.
         */
        NOT_YET_ANSWERED,
        /**
         * A sender's last export was refused, timed out, or got an answer that is not a successful OTLP one; or
         * nothing has been answered and the endpoint is silent: a probe's request went out
         * {@linkplain #ExportLedger(Duration) long ago} without an answer, or a first probe already timed out.
         */
        FAILING
    }

    /** Set while a probe's exports start on this thread: whether the probe is tentative. */
    private static final ThreadLocal<Boolean> PROBING = new ThreadLocal<>();
    private volatile boolean tentativeProbeTimedOut;
    private static final long NOT_WRITTEN = Long.MIN_VALUE;
    /** When the request of the latest probe was written (System.nanoTime()), or NOT_WRITTEN. */
    private volatile long probeWrittenAt = NOT_WRITTEN;
    private final long silentAfterNanos;
    /** Set once the senders were stopped at exit: what fails after that is the stop, not the endpoint. */
    private volatile boolean aborted;

    private final AtomicLong spansEnded = new AtomicLong();
    private final AtomicLong spansDelivered = new AtomicLong();
    private final AtomicLong pointsFailed = new AtomicLong();
    private final AtomicLong pointsInFlight = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile Consumer<String> problems = ignored -> { };
    private volatile String reason;
    /** Per sender (traces, metrics), whether its last finished export was answered with success. */
    private final Map<Object, Boolean> lastAnswered = new ConcurrentHashMap<>();

    /** A ledger for which an endpoint that leaves a probe's request unanswered for one second is silent. */
    ExportLedger() {
        this(Duration.ofSeconds(1));
    }

    /**
     * @param silentAfter how long a probe's request may stay unanswered before the endpoint counts as silent
     *                    (then {@link #health()} is {@link Health#FAILING}): a healthy collector answers an empty
     *                    export in milliseconds once it has it, and the time counts from the moment the sender
     *                    writes the request, so a JVM too busy to send it is not taken for a silent endpoint
     */
    ExportLedger(Duration silentAfter) {
        this.silentAfterNanos = silentAfter.toNanos();
    }

    /** Where {@link #reportOnce} goes. */
    void reportTo(Consumer<String> problems) {
        this.problems = problems;
    }

    /**
     * Hands one line to the reporter, the first time only, and never once closing (the shutdown line covers
     * it). Exceptions the reporter throws are ignored: this runs on the SDK's export threads.
     */
    void reportOnce(String message) {
        if (closing.get() || !reported.compareAndSet(false, true)) {
            return;
        }
        try {
            problems.accept("OpenTelemetry export problem (reported once): " + message);
        } catch (RuntimeException ignored) {
            // the reporter must not break the SDK's exporter thread
        }
    }

    void spanEnded() {
        spansEnded.incrementAndGet();
    }

    void spansDelivered(int count) {
        spansDelivered.addAndGet(count);
    }

    void pointsSent(int count) {
        pointsInFlight.addAndGet(count);
    }

    void pointsDone(int count, boolean delivered) {
        pointsInFlight.addAndGet(-count);
        if (!delivered) {
            pointsFailed.addAndGet(count);
        }
    }

    /**
     * Runs {@code export} as a probe: the exports it starts on this thread are marked so that their senders make
     * one attempt, without retries, and report nothing when it fails (the outcome is only recorded). A
     * {@code tentative} probe that gets no answer in time records nothing but the cause (see
     * {@link #probeTimedOut}): a JVM that is still starting on a busy machine may not even have sent it in
     * time, so only a second probe's timeout counts as trouble.
     */
    void probing(boolean tentative, Runnable export) {
        PROBING.set(tentative);
        try {
            export.run();
        } finally {
            PROBING.remove();
        }
    }

    /** Whether the export being started on this thread is a {@linkplain #probing probe}. */
    boolean isProbing() {
        return PROBING.get() != null;
    }

    /** Whether the export being started on this thread is a tentative {@linkplain #probing probe}. */
    boolean isTentativeProbe() {
        return Boolean.TRUE.equals(PROBING.get());
    }

    /** A probe's request is being written to the endpoint now. */
    void probeWritten() {
        probeWrittenAt = System.nanoTime();
    }

    /** A tentative probe got no answer in time: remembered as the cause, not (yet) as trouble. */
    void probeTimedOut(Throwable error) {
        if (aborted) {
            return;
        }
        tentativeProbeTimedOut = true;
        reason = why(error);
    }

    /** Whether a tentative probe got no answer in time. */
    boolean tentativeProbeTimedOut() {
        return tentativeProbeTimedOut;
    }

    /** What the endpoint did with the last export of each sender; see {@link Health}. */
    Health health() {
        if (lastAnswered.isEmpty()) {
            return silent() ? Health.FAILING : Health.NOT_YET_ANSWERED;
        }
        return lastAnswered.containsValue(Boolean.FALSE) ? Health.FAILING : Health.ANSWERING;
    }

    /**
     * Nothing answered, and either a first probe already timed out (the export timeout, 5 s by default, passed
     * without an answer) or the latest probe's request was written longer ago than the silence allowed.
     */
    private boolean silent() {
        long written = probeWrittenAt;
        return tentativeProbeTimedOut
                || (written != NOT_WRITTEN && System.nanoTime() - written >= silentAfterNanos);
    }

    /** {@code sender}'s export got a successful OTLP answer. */
    void answered(Object sender) {
        lastAnswered.put(sender, Boolean.TRUE);
        if (!lastAnswered.containsValue(Boolean.FALSE)) {
            reason = null;
        }
    }

    /**
     * A send that ended in an error: a tentative probe that timed out is only noted as such (it is asked again);
     * anything else is a failure, reported unless it was a probe.
     */
    void sendFailed(Object sender, Throwable error, boolean probe, boolean tentative) {
        if (tentative && timedOut(error)) {
            probeTimedOut(error);
        } else {
            failed(sender, error, probe);
        }
    }

    /**
     * An export attempt of {@code sender} failed; remembers why (the latest reason wins) and, unless
     * {@code quietly}, reports it once.
     */
    void failed(Object sender, Throwable error, boolean quietly) {
        noteFailure(sender, why(error), quietly);
    }

    /** An export attempt of {@code sender} got an answer that is not a successful OTLP response. */
    void badResponse(Object sender, String what, boolean quietly) {
        noteFailure(sender, "the endpoint's answer was not an OTLP response (" + what + ")", quietly);
    }

    private void noteFailure(Object sender, String why, boolean quietly) {
        if (aborted) {
            return;
        }
        lastAnswered.put(sender, Boolean.FALSE);
        reason = why;
        if (!quietly) {
            reportOnce("Failed to export: " + why);
        }
    }

    /** From now on: one attempt per export, no retry, no SDK warning reported. */
    void closing() {
        closing.set(true);
    }

    boolean isClosing() {
        return closing.get();
    }

    /** The senders are being stopped at exit: failures from now on are theirs, not the endpoint's. */
    void aborting() {
        aborted = true;
    }

    /**
     * One line naming what was not delivered and why, or empty when everything arrived.
     *
     * @param endpoint where the telemetry was going, as configured
     * @param deadlineMillis the shutdown deadline, for the message when the endpoint simply did not answer
     */
    Optional<String> undelivered(String endpoint, long deadlineMillis) {
        long spans = Math.max(0, spansEnded.get() - spansDelivered.get());
        long points = pointsFailed.get() + Math.max(0, pointsInFlight.get());
        if (spans == 0 && points == 0) {
            return Optional.empty();
        }
        String why = reason != null ? reason
                : "the endpoint did not answer within the " + deadlineMillis + " ms allowed at shutdown";
        return Optional.of("OpenTelemetry export: " + spans + " span(s) and " + points
                + " metric point(s) dropped, not delivered to " + endpoint + ": " + why);
    }

    /** The cause of an export failure in a few words, without stack trace (never a header value: none is in it). */
    static String why(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
                return "the endpoint refused the connection (" + describe(t) + ")";
            }
            if (t instanceof UnknownHostException) {
                return "the endpoint's host is unknown (" + describe(t) + ")";
            }
            if (isTimeout(t)) {
                return "the endpoint did not answer in time (" + describe(t) + ")";
            }
        }
        if (error instanceof IOException) {
            return "the endpoint's answer was not an OTLP response (" + describe(error) + ")";
        }
        return "the export failed (" + describe(error) + ")";
    }

    /** Whether {@code error}, or one of its causes, says that no answer came in time. */
    static boolean timedOut(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (isTimeout(t)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isTimeout(Throwable t) {
        return t instanceof HttpTimeoutException || t instanceof SocketTimeoutException
                || (t instanceof InterruptedIOException && String.valueOf(t.getMessage()).contains("timeout"));
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        if (message == null || message.isBlank()) {
            return t.getClass().getName();
        }
        String line = message.strip().lines().findFirst().orElse("");
        return t.getClass().getName() + ": " + (line.length() > 200 ? line.substring(0, 200) + "..." : line);
    }
}
