package dev.tokenguard.budget;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InFlightTest {

    private static final int TOTAL = BudgetLimits.TOTAL;

    @Test
    void admitsWhileUsedAndReservedStayUnderTheLimit() {
        InFlight f = new InFlight();
        UsageWindow w = new UsageWindow(0, null);
        assertTrue(f.tryReserve(TOTAL, 40, w, 100, false));
        assertTrue(f.tryReserve(TOTAL, 40, w, 100, false));
        assertTrue(f.tryReserve(TOTAL, 40, w, 100, false), "80 reserved, 80 < 100: admitted");
        assertFalse(f.tryReserve(TOTAL, 1, w, 100, false), "120 reserved: full");
        assertEquals(120, f.reserved(TOTAL));
        w.add(TOTAL, 30); // one call settles 30 of its 40
        f.unreserve(TOTAL, 40);
        assertEquals(80, f.reserved(TOTAL));
        assertFalse(f.tryReserve(TOTAL, 1, w, 100, false), "30 used + 80 reserved >= 100");
        f.unreserve(TOTAL, 40);
        assertTrue(f.tryReserve(TOTAL, 1, w, 100, false), "30 used + 40 reserved < 100");
        assertTrue(f.tryReserve(TOTAL, 500, w, 100, true), "forced past the limit");
        assertEquals(541, f.reserved(TOTAL));
    }

    /**
     * Calls that settle below what they reserved, released and reserved again by other threads all the time: the
     * interleaving where one call checks, another settles and a third reserves the same amount before the first
     * one's compare-and-set. Whatever the interleaving, what was charged stays below the limit plus one call.
     */
    @Test
    void manyThreadsNeverChargeMoreThanOneCallPastTheLimit() throws Exception {
        for (int round = 0; round < 500; round++) {
            InFlight f = new InFlight();
            UsageWindow w = new UsageWindow(0, null);
            long limit = 1_001;
            long reserve = 100;
            int threads = 8;
            AtomicLong admitted = new AtomicLong();
            BudgetEngineConcurrencyTest.runConcurrently(threads, "reserving-", id -> {
                int n = 0;
                while (w.used(TOTAL) < limit) {
                    if (!f.tryReserve(TOTAL, reserve, w, limit, false)) {
                        Thread.onSpinWait();
                        continue;
                    }
                    admitted.incrementAndGet();
                    n++;
                    if ((id + n) % 3 != 0) { // every third call fails: nothing used
                        w.add(TOTAL, 1 + (id * 31 + n * 17) % reserve); // used first, then given back
                    }
                    f.unreserve(TOTAL, reserve);
                }
            });
            assertTrue(admitted.get() > 0);
            long used = w.used(TOTAL);
            assertTrue(used >= limit && used < limit + reserve,
                    "round " + round + ": used " + used + " against a limit of " + limit + ", calls of at most "
                            + reserve);
            assertEquals(0, f.reserved(TOTAL), "every reservation given back");
        }
    }
}
