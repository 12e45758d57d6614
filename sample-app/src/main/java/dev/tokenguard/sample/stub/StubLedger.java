package dev.tokenguard.sample.stub;

import com.sun.net.httpserver.HttpExchange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a fake server saw on one family of endpoints: the numbered requests, the tokens it reported
 * for them, and the switch that fails the next few of them on purpose. Tests read these figures as
 * their independent oracle, so every fake provider keeps them the same way.
 *
 * <p>The token totals are the sums of the usage of every recorded request that carries one; error
 * answers are recorded without usage and so add nothing.
 *
 * <p>Thread-safe: requests arrive on many worker threads at once.
 */
final class StubLedger {

    private final String serverName;
    private final String endpoints;
    private final AtomicInteger sequence = new AtomicInteger();
    private final AtomicLong inputTokens = new AtomicLong();
    private final AtomicLong outputTokens = new AtomicLong();
    private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
    private final Object failureLock = new Object();
    private int failStatus;
    private int failRemaining;

    /**
     * @param serverName the fake server's name, as {@link #lastRequest()} reports it
     * @param endpoints  where the recorded requests arrive, e.g. {@code a model endpoint} or
     *                   {@code /v1/messages}, as {@link #lastRequest()} reports it
     */
    StubLedger(String serverName, String endpoints) {
        this.serverName = serverName;
        this.endpoints = endpoints;
    }

    /** Numbers a request that just arrived: 1, 2, 3... in arrival order. */
    int nextSequence() {
        return sequence.incrementAndGet();
    }

    int requestCount() {
        return sequence.get();
    }

    long totalInputTokens() {
        return inputTokens.get();
    }

    long totalOutputTokens() {
        return outputTokens.get();
    }

    long totalTokens() {
        return totalInputTokens() + totalOutputTokens();
    }

    /** Every recorded request, in sequence order (an immutable snapshot). */
    List<RecordedRequest> requests() {
        List<RecordedRequest> snapshot = new ArrayList<>(requests);
        snapshot.sort((a, b) -> Integer.compare(a.sequence(), b.sequence()));
        return List.copyOf(snapshot);
    }

    RecordedRequest lastRequest() {
        List<RecordedRequest> all = requests();
        if (all.isEmpty()) {
            throw new IllegalStateException(serverName + " has received no request on " + endpoints + " yet");
        }
        return all.get(all.size() - 1);
    }

    /** Records request {@code n} answered with an HTTP error {@code status}: no usage, nothing charged. */
    void recordFailure(int n, HttpExchange exchange, Map<String, List<String>> headers, String body,
                       boolean streaming, int status) {
        requests.add(new RecordedRequest(n, exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                exchange.getRequestURI().getRawQuery(), headers, body, status, streaming, false, null, null));
    }

    /**
     * Records request {@code n} answered with 200 and adds its usage to the totals.
     *
     * @param streamError the error type of the event that broke off the stream on purpose, or {@code null}
     */
    void recordAnswer(int n, HttpExchange exchange, Map<String, List<String>> headers, String body,
                      boolean streaming, boolean usageReported, StubUsage usage, String streamError) {
        inputTokens.addAndGet(usage.inputTokens());
        outputTokens.addAndGet(usage.outputTokens());
        requests.add(new RecordedRequest(n, exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                exchange.getRequestURI().getRawQuery(), headers, body, 200, streaming, usageReported, usage,
                streamError));
    }

    /** The next {@code times} requests are to be answered with {@code status}, an HTTP error status. */
    void setFailNext(int status, int times) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("setFailNext status must be an HTTP error status 400..599, got " + status);
        }
        if (times < 0) {
            throw new IllegalArgumentException("setFailNext times must be >= 0, got " + times);
        }
        synchronized (failureLock) {
            failStatus = status;
            failRemaining = times;
        }
    }

    /** The error status this request is to be answered with, using up one injected failure, or 0 for none. */
    int takeInjectedFailure() {
        synchronized (failureLock) {
            if (failRemaining <= 0) {
                return 0;
            }
            failRemaining--;
            return failStatus;
        }
    }

    /** Forgets every recorded request, resets the totals and the sequence, and cancels injected failures. */
    void reset() {
        synchronized (failureLock) {
            failRemaining = 0;
        }
        requests.clear();
        inputTokens.set(0);
        outputTokens.set(0);
        sequence.set(0);
    }
}
