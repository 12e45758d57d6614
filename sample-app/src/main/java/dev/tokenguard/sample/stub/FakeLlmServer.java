package dev.tokenguard.sample.stub;

import java.util.List;

/**
 * What every loopback fake LLM server shares: its endpoint on 127.0.0.1, the ledger of the requests on its model
 * endpoints (what each server counts there is in its own class documentation), injected failures and the usage
 * mode. Each server adds the wire shapes of its provider.
 *
 * <p>Thread-safe; all threads are daemon threads, so a forgotten server never keeps a JVM alive.
 */
public abstract class FakeLlmServer implements AutoCloseable {

    /** The loopback endpoint; a server's {@code start()} makes it serve that server's handler. */
    protected final LoopbackEndpoint endpoint;
    /** The requests on the model endpoints, with their tokens, failures and numbering. */
    protected final StubLedger ledger;
    private volatile UsageMode usageMode = UsageMode.NORMAL;
    private volatile long answerDelayMillis;
    private final java.util.concurrent.ConcurrentLinkedQueue<Long> tokensAtArrival =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    protected FakeLlmServer(LoopbackEndpoint endpoint, StubLedger ledger) {
        this.endpoint = endpoint;
        this.ledger = ledger;
    }

    /** The base URL the provider's clients take (see each server). */
    public abstract String baseUrl();

    public int port() {
        return endpoint.port();
    }

    /** Physical requests received on the model endpoints, failed ones included. */
    public int requestCount() {
        return ledger.requestCount();
    }

    /** Sum of the input tokens reported (or computed but not reported) for every answered request. */
    public long totalInputTokens() {
        return ledger.totalInputTokens();
    }

    /** Sum of the output tokens reported (or computed but not reported) for every answered request. */
    public long totalOutputTokens() {
        return ledger.totalOutputTokens();
    }

    /** {@code totalInputTokens() + totalOutputTokens()}. */
    public long totalTokens() {
        return ledger.totalTokens();
    }

    /** Every request received on the model endpoints, in arrival order (an immutable snapshot). */
    public List<RecordedRequest> requests() {
        return ledger.requests();
    }

    /** The most recent request on a model endpoint. */
    public RecordedRequest lastRequest() {
        return ledger.lastRequest();
    }

    /** The next request on a model endpoint is answered with this HTTP status and the provider's error body. */
    public void setFailNext(int status) {
        setFailNext(status, 1);
    }

    /**
     * The next {@code times} requests on the model endpoints are answered with this HTTP status and the
     * provider's error body (SDKs retry 429 and 5xx by default, so a test of a retried failure fails as many
     * requests as the client's retries plus one).
     */
    public void setFailNext(int status, int times) {
        ledger.setFailNext(status, times);
    }

    /**
     * How the following answers report usage ({@link UsageMode#NORMAL} until changed or reset): left out,
     * {@code null} or under other names, as some gateways and compatible servers answer. The ledger still
     * counts the usage computed; such requests are recorded as usage not reported.
     */
    public void setUsageMode(UsageMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("setUsageMode needs one of " + List.of(UsageMode.values()) + ", got null");
        }
        usageMode = mode;
    }

    /**
     * Every following request on a model endpoint is answered this much later than it arrived (0 until changed or
     * reset), as a real model takes its time; servers that support it say so in their documentation.
     */
    public void setAnswerDelay(java.time.Duration delay) {
        if (delay == null || delay.isNegative()) {
            throw new IllegalArgumentException("setAnswerDelay needs a duration >= 0, got " + delay);
        }
        answerDelayMillis = delay.toMillis();
    }

    /**
     * For each answered request that arrived while an answer delay was set, in arrival order: the total tokens of the
     * answers the server had already recorded when it arrived. A request whose figure is at least a budget's limit
     * was sent after that budget was used up.
     */
    public List<Long> tokensAnsweredAtArrival() {
        return List.copyOf(tokensAtArrival);
    }

    /** Notes the arrival of a request and waits for the answer delay, if one is set. */
    protected void delayAnswer() {
        long delay = answerDelayMillis;
        if (delay <= 0) {
            return;
        }
        tokensAtArrival.add(ledger.totalTokens());
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The usage mode in force. */
    protected UsageMode usageMode() {
        return usageMode;
    }

    /**
     * Forgets every recorded request, resets the totals and the sequence, cancels injected failures and
     * restores the default usage mode and every setting of the server's own.
     */
    public void reset() {
        ledger.reset();
        usageMode = UsageMode.NORMAL;
        answerDelayMillis = 0;
        tokensAtArrival.clear();
        resetOwnSettings();
    }

    /** Restores the settings a server adds to these; nothing by default. */
    protected void resetOwnSettings() {
    }

    @Override
    public void close() {
        endpoint.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + baseUrl() + ", requests=" + requestCount() + "]";
    }
}
