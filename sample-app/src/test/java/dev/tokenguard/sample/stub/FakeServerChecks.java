package dev.tokenguard.sample.stub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.Future;
import java.util.function.Predicate;

/** Checks that hold alike for every fake provider server, whatever SDK talks to it. */
final class FakeServerChecks {

    private FakeServerChecks() {
    }

    /**
     * Every recorded request was answered with an error, carries no usage, and nothing was charged.
     *
     * @param expected how many requests the test sent
     */
    static void assertOnlyFailuresRecorded(int expected, List<RecordedRequest> requests, long totalTokens) {
        assertEquals(expected, requests.size());
        assertTrue(requests.stream().noneMatch(RecordedRequest::answered));
        assertTrue(requests.stream().allMatch(r -> r.usage() == null && !r.usageReported()));
        assertEquals(0, totalTokens);
    }

    /**
     * The client's bearer key is recorded under a lower-case header name but printed neither by the
     * recorded request nor by the server.
     */
    static void assertKeyRecordedButNeverPrinted(RecordedRequest recorded, String apiKey, Object server) {
        assertEquals("Bearer " + apiKey, recorded.header("Authorization"));
        assertTrue(recorded.headers().containsKey("authorization"));
        assertTrue(recorded.headers().keySet().stream().allMatch(k -> k.equals(k.toLowerCase())), "lower-case names");
        assertFalse(recorded.toString().contains(apiKey), recorded.toString());
        assertFalse(server.toString().contains(apiKey));
    }

    /** At least one live thread's name passes {@code isServerThread}, and every such thread is a daemon. */
    static void assertServerThreadsAreDaemons(Predicate<String> isServerThread) {
        List<Thread> serverThreads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> isServerThread.test(t.getName()))
                .toList();
        assertFalse(serverThreads.isEmpty());
        assertTrue(serverThreads.stream().allMatch(Thread::isDaemon),
                "non-daemon: " + serverThreads.stream().filter(t -> !t.isDaemon()).map(Thread::getName).toList());
    }

    /**
     * Waits for {@code threads} futures that each return {@code {input, output}} token sums and adds
     * them up.
     */
    static long[] addUp(List<Future<long[]>> futures, int threads) throws Exception {
        assertEquals(threads, futures.size());
        long[] total = new long[2];
        for (Future<long[]> future : futures) {
            long[] sums = future.get();
            total[0] += sums[0];
            total[1] += sums[1];
        }
        return total;
    }
}
