package dev.tokenguard.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 64 threads on one {@code global} budget of 3,001 tokens, requests without an output cap, a server that answers
 * after 50 ms: with reservation the budget is overshot by at most one call and no call is refused while the budget
 * had room; without it (reserve-output=off) many calls are in flight when the budget runs out. Prints both.
 */
class ConcurrentBudgetIT {
    static final String APP = "dev.tokenguard.it.app.ConcurrentBudgetApp";
    static final int THREADS = 64;
    static final long LIMIT = 3_001;

    @TempDir
    Path work;

    record Figures(long requests, long tokens, long past, long afterExhaustion, long largest, long refusals,
                   List<Long> refusedAt) {
    }

    Figures run(String reservation) throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.scope=global,budget.max-tokens=" + LIMIT + reservation,
                List.of(), Map.of(), APP, String.valueOf(THREADS), String.valueOf(LIMIT), "50");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(), result.lines("FAILED"), result::toString);
        List<String> results = result.lines("RESULT ");
        assertEquals(1, results.size(), result::toString);
        Map<String, Long> f = new HashMap<>();
        for (String part : results.get(0).substring("RESULT ".length()).split(" ")) {
            String[] kv = part.split("=");
            f.put(kv[0], Long.parseLong(kv[1]));
        }
        List<Long> refusedAt = result.lines("REFUSAL ").stream().map(l -> Long.parseLong(l.substring(8))).toList();
        System.out.println("[reservation" + (reservation.isEmpty() ? " on" : " off") + "] " + results.get(0));
        return new Figures(f.get("requests"), f.get("tokens"), f.get("past"), f.get("afterExhaustion"),
                f.get("largest"), f.get("refusals"), refusedAt);
    }

    /**
     * A call that throws, one that times out, one that is cancelled and a stream dropped unclosed each give their
     * reservation back: with a reserve of nearly the whole budget and a ten-minute wait, a leaked one would hold the
     * next call back until the forked JVM's time limit.
     */
    @Test
    void noExitPathLeaksItsReservation() throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.scope=global,budget.max-tokens=5000,"
                + "budget.reserve-output=4900,budget.reserve-wait=10m", List.of(), Map.of(),
                "dev.tokenguard.it.app.ExitPathsApp");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(), result.lines("UNEXPECTED"), result::toString);
        assertEquals(4, result.lines("OK ").size(), result::toString);
        assertEquals(1, result.lines("THREW ").size(), result::toString);
        assertEquals(1, result.lines("TIMED_OUT ").size(), result::toString);
        assertEquals(List.of("CANCELLED true"), result.lines("CANCELLED "), result::toString);
        assertEquals(List.of("STREAM_DROPPED 1"), result.lines("STREAM_DROPPED "), result::toString);
        List<String> released = result.agentLines().stream().filter(l -> l.contains("released the reservations"))
                .toList();
        int calls = 0;
        for (String line : released) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("of (\\d+) call\\(s\\) that never ended")
                    .matcher(line);
            assertTrue(m.find(), line);
            calls += Integer.parseInt(m.group(1));
        }
        // the cancelled call and the dropped stream; the failed and the timed-out call ended by themselves
        assertEquals(2, calls, result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java 4.101.0", ForkedJvm.GOVERNING_OKHTTP),
                result.agentLines().stream().filter(l -> !released.contains(l)).toList(), result::toString);
    }

    @Test
    void reservationKeepsSixtyFourThreadsWithinOneCallOfTheLimit() throws Exception {
        Figures on = run("");
        Figures off = run(",budget.reserve-output=off");
        System.out.printf("%d threads, global budget of %,d tokens, server answers after 50 ms, no output cap:%n"
                        + "  reservation on : %,d tokens charged past the limit, %d requests answered after exhaustion"
                        + " (%d requests)%n"
                        + "  reservation off: %,d tokens charged past the limit, %d requests answered after exhaustion"
                        + " (%d requests)%n", THREADS, LIMIT, on.past(), on.afterExhaustion(), on.requests(),
                off.past(), off.afterExhaustion(), off.requests());
        for (Figures f : List.of(on, off)) {
            assertEquals(THREADS, f.refusals(), "every thread ends with a refusal");
            assertEquals(THREADS, f.refusedAt().size());
            assertTrue(f.tokens() >= LIMIT, "the budget was used up: " + f);
        }
        // with reservation: past the limit by at most one call, and every refusal came when the server had answered
        // at least the limit (the server records an answer before the client reads it, so it is never behind)
        assertTrue(on.past() <= on.largest(), "overshoot " + on.past() + " > largest call " + on.largest());
        assertEquals(0, on.afterExhaustion(), "no request was sent after the budget was used up");
        for (long at : on.refusedAt()) {
            assertTrue(at >= LIMIT, "refused while the server had answered only " + at + " of " + LIMIT);
        }
    }
}
