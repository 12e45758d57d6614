package dev.tokenguard.budget;

/**
 * What an {@code mdc:} scope instance used in its window, kept after the instance was released as idle so that the
 * next call of the same MDC value starts from it (an idle user gets no fresh budget). Kept as one bare array per MDC
 * value, no session and no counters, so that an idle value costs little more than its key:
 * {@code [window index, total, input, output, cost in nano-USD, thresholds reported]}.
 */
final class KeptUsage {
    private static final int WINDOW = 0;
    private static final int USED = 1;
    private static final int REPORTED = USED + BudgetLimits.DIMENSIONS;

    private KeptUsage() {
    }

    /** The usage of a closed window, or null when it holds nothing worth keeping. */
    static long[] of(UsageWindow w) {
        long[] v = new long[REPORTED + 1];
        v[WINDOW] = w.index;
        boolean any = false;
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            v[USED + d] = w.used(d);
            any |= v[USED + d] != 0;
        }
        v[REPORTED] = w.reportedBits();
        any |= v[REPORTED] != 0;
        return any ? v : null;
    }

    static long windowIndex(long[] kept) {
        return kept[WINDOW];
    }

    static void addTo(long[] kept, UsageWindow w) {
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            w.add(d, kept[USED + d]);
        }
        w.markReportedBits(kept[REPORTED]);
    }
}
