package dev.tokenguard.budget;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Records session starts and ends, with the session's totals at the moment it ended. */
final class RecordingListener implements SessionListener {
    record Ended(Session session, String reason, long input, long output) {
    }

    final ConcurrentLinkedQueue<Session> started = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Ended> ended = new ConcurrentLinkedQueue<>();
    final Map<String, AtomicInteger> startCount = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> endCount = new ConcurrentHashMap<>();
    /** Tokens a session had when it started: must be 0 (started before any charge). */
    final ConcurrentLinkedQueue<Long> tokensAtStart = new ConcurrentLinkedQueue<>();

    @Override
    public void sessionStarted(Session session) {
        tokensAtStart.add(session.inputTokens() + session.outputTokens());
        startCount.computeIfAbsent(session.id(), k -> new AtomicInteger()).incrementAndGet();
        started.add(session);
    }

    @Override
    public void sessionEnded(Session session, String reason) {
        endCount.computeIfAbsent(session.id(), k -> new AtomicInteger()).incrementAndGet();
        ended.add(new Ended(session, reason, session.inputTokens(), session.outputTokens()));
    }

    /**
     * The engine's one live scope, whose session is {@code first} with {@code input} and {@code output} tokens, is
     * not released a millisecond before {@code idle}, is released at it (session ended {@code idle}, its usage
     * kept), and only once.
     */
    void assertReleasedOnceAfterIdle(BudgetEngine e, LongConsumer advanceMillis, long idle,
                                     Session first, long input, long output) {
        advanceMillis.accept(idle - 1);
        assertEquals(0, e.releaseIdle(idle), "one millisecond short of the idle time");
        assertEquals(List.of(), endReasons());
        advanceMillis.accept(1);
        assertEquals(1, e.releaseIdle(idle));
        assertEquals(List.of(SessionListener.IDLE), endReasons());
        Ended end = endOf(first);
        assertEquals(input, end.input());
        assertEquals(output, end.output());
        assertEquals(0, e.liveScopes());
        assertEquals(1, e.keptScopes());
        assertEquals(0, e.releaseIdle(idle), "released once");
    }

    List<String> endReasons() {
        List<String> reasons = new ArrayList<>();
        for (Ended e : ended) {
            reasons.add(e.reason());
        }
        return reasons;
    }

    Ended endOf(Session s) {
        for (Ended e : ended) {
            if (e.session() == s) {
                return e;
            }
        }
        return null;
    }
}
