package dev.tokenguard.budget;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Session ids unique within the process and across restarts, readable by a person:
 * {@code <scopeKey>~p<pid>-<process start, epoch ms in base 36>-<n>}, e.g.
 * {@code thread:worker-3#41~p4711-lx2k9q1c-7}. Not yet sanitized for a file name.
 */
final class SessionIds {
    private static final String PROCESS = processPart();
    private static final AtomicLong COUNTER = new AtomicLong();

    private SessionIds() {
    }

    static String next(String scopeKey) {
        return scopeKey + PROCESS + COUNTER.incrementAndGet();
    }

    private static String processPart() {
        long pid;
        long start;
        try {
            ProcessHandle self = ProcessHandle.current();
            pid = self.pid();
            Optional<Instant> started = self.info().startInstant();
            start = started.isPresent() ? started.get().toEpochMilli() : System.currentTimeMillis();
        } catch (RuntimeException e) {
            // process information unavailable (restricted platform): the clock still tells restarts apart
            pid = 0;
            start = System.currentTimeMillis();
        }
        return "~p" + pid + "-" + Long.toString(start, 36) + "-";
    }
}
