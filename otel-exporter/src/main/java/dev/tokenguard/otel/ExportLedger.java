package dev.tokenguard.otel;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What became of the telemetry this SDK was given: spans ended, spans and metric points the endpoint took,
 * the ones it did not, the ones still on the wire, and why the last failure happened. It is how the agent
 * can say, in one line at JVM exit, how much it could not deliver and why, instead of letting the SDK log
 * every failed batch.
 *
 * <p>Once {@link #closing()} is called (JVM shutdown) the senders stop retrying and the SDK's own
 * warnings are no longer reported: the shutdown line says it all.
 */
final class ExportLedger {
    private final AtomicLong spansEnded = new AtomicLong();
    private final AtomicLong spansDelivered = new AtomicLong();
    private final AtomicLong pointsFailed = new AtomicLong();
    private final AtomicLong pointsInFlight = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile Consumer<String> problems = ignored -> { };
    private volatile String reason;
    private volatile boolean answering;

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
        answering = true;
    }

    void pointsSent(int count) {
        pointsInFlight.addAndGet(count);
    }

    void pointsDone(int count, boolean delivered) {
        pointsInFlight.addAndGet(-count);
        if (!delivered) {
            pointsFailed.addAndGet(count);
        } else {
            answering = true;
        }
    }

    /**
     * Whether the endpoint may still take the flush: it took an export and failed none since, or it has failed
     * none yet (a healthy endpoint's first export, at the exit of a short-lived JVM, is slow: classes load).
     */
    boolean mayAnswer() {
        return answering || reason == null;
    }

    /** An export attempt failed; remembers why (the latest reason wins). */
    void failed(Throwable error) {
        answering = false;
        String why = why(error);
        reason = why;
        reportOnce("Failed to export: " + why);
    }

    /** An export attempt got an answer that is not a successful OTLP response. */
    void badResponse(String what) {
        answering = false;
        String why = "the endpoint's answer was not an OTLP response (" + what + ")";
        reason = why;
        reportOnce("Failed to export: " + why);
    }

    /** From now on: one attempt per export, no retry, no SDK warning reported. */
    void closing() {
        closing.set(true);
    }

    boolean isClosing() {
        return closing.get();
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
            if (t instanceof HttpTimeoutException || t instanceof SocketTimeoutException
                    || (t instanceof InterruptedIOException && String.valueOf(t.getMessage()).contains("timeout"))) {
                return "the endpoint did not answer in time (" + describe(t) + ")";
            }
        }
        if (error instanceof IOException) {
            return "the endpoint's answer was not an OTLP response (" + describe(error) + ")";
        }
        return "the export failed (" + describe(error) + ")";
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
