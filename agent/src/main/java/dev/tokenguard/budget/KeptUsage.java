package dev.tokenguard.budget;

/**
 * What an {@code mdc:} scope instance used in its window, kept after the instance was released as idle so that the
 * next call of the same MDC value starts from it (an idle user gets no fresh budget). Kept as one bare array per MDC
 * value, no session and no counters, so that an idle value costs little more than its key:
 * {@code [total, input, output, cost in nano-USD, window index, thresholds reported]}, the last two only when not 0
 * (a budget without a window has window index 0; an array that holds the thresholds holds the window index too).
 */
final class KeptUsage {
    private static final int WINDOW = BudgetLimits.DIMENSIONS;
    private static final int REPORTED = WINDOW + 1;

    private KeptUsage() {
    }

    /** The usage of a closed window, or null when it holds nothing worth keeping. */
    static long[] of(UsageWindow w) {
        long reported = w.reportedBits();
        int length = reported != 0 ? REPORTED + 1 : w.index != 0 ? WINDOW + 1 : BudgetLimits.DIMENSIONS;
        long[] v = new long[length];
        boolean any = reported != 0;
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            v[d] = w.used(d);
            any |= v[d] != 0;
        }
        if (length > WINDOW) {
            v[WINDOW] = w.index;
        }
        if (length > REPORTED) {
            v[REPORTED] = reported;
        }
        return any ? v : null;
    }

    static long windowIndex(long[] kept) {
        return kept.length > WINDOW ? kept[WINDOW] : 0;
    }

    static void addTo(long[] kept, UsageWindow w) {
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            w.add(d, kept[d]);
        }
        if (kept.length > REPORTED) {
            w.markReportedBits(kept[REPORTED]);
        }
    }
}
