package dev.tokenguard.budget;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

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
