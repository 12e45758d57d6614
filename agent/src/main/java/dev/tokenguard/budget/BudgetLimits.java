package dev.tokenguard.budget;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;

/**
 * A {@link BudgetSpec} compiled for the hot path: limits as longs (cost in nano-USD), and for each
 * threshold and dimension the exact usage at which it is crossed, so that charging needs no
 * multiplication and no floating point.
 */
final class BudgetLimits {
    static final int TOTAL = 0;
    static final int INPUT = 1;
    static final int OUTPUT = 2;
    static final int COST = 3;
    static final int DIMENSIONS = 4;
    static final long NO_LIMIT = -1;
    /** Thresholds are remembered as bits of one long per window. */
    static final int MAX_THRESHOLDS = 64;

    private static final LimitKind[] KINDS = LimitKind.values();

    /** Replaced as a whole by {@link #update}: the limits, the mode and the points change live; the rest never. */
    volatile BudgetSpec spec;
    final String name;
    final int index;
    final ScopeSpec.Kind scopeKind;
    final String mdcKey;
    /** Window length in ms, 0 for none. */
    final long windowMillis;
    volatile boolean enforce;
    final boolean opensSessions;
    /** Per dimension, the limit or {@link #NO_LIMIT}; replaced whole (never written in place) by {@link #update}. */
    volatile long[] limits;
    final double[] thresholds;
    /** [threshold][dimension]: the smallest usage with {@code used >= t * limit}; -1 for no limit. */
    volatile long[][] points;

    BudgetLimits(BudgetSpec spec, int index) {
        this.spec = spec;
        this.name = spec.name();
        this.index = index;
        this.scopeKind = spec.scope().kind();
        this.mdcKey = spec.scope().mdcKey();
        this.enforce = spec.mode() == EnforcementMode.ENFORCE;
        this.opensSessions = index == 0;
        this.windowMillis = windowMillis(spec);
        this.limits = limitsOf(spec);
        this.thresholds = spec.warnAt();
        if (thresholds.length > MAX_THRESHOLDS) {
            throw new IllegalArgumentException("budget '" + name + "': warn-at has " + thresholds.length
                    + " thresholds; at most " + MAX_THRESHOLDS + " are supported");
        }
        for (int t = 0; t < thresholds.length; t++) {
            double f = thresholds[t];
            if (!(f > 0 && f <= 1)) {
                throw new IllegalArgumentException("budget '" + name + "': warn-at value " + f
                        + " is not a fraction of the limit; expected a number in (0, 1], e.g. 0.75");
            }
            if (t > 0 && f == thresholds[t - 1]) {
                throw new IllegalArgumentException("budget '" + name + "': warn-at value " + f
                        + " is given twice; expected distinct fractions, e.g. 0.75,0.90,0.95");
            }
        }
        this.points = pointsOf(thresholds, limits);
    }

    /**
     * Takes the limits and the mode of {@code changed} from now on (a live change); its name, scope, window and
     * warn-at must be this budget's own. Calls already admitted keep what they were admitted with; thresholds already
     * reported in a window stay reported.
     *
     * @throws IllegalArgumentException when a limit is unusable or a fixed part differs
     */
    synchronized void update(BudgetSpec changed) {
        long[] newLimits = checkUpdate(changed);
        long[][] newPoints = pointsOf(thresholds, newLimits);
        limits = newLimits;
        points = newPoints;
        enforce = changed.mode() == EnforcementMode.ENFORCE;
        spec = changed;
    }

    /**
     * The limits {@code changed} would set, changing nothing.
     *
     * @throws IllegalArgumentException when it changes what cannot change while the budget runs, or a limit is unusable
     */
    long[] checkUpdate(BudgetSpec changed) {
        BudgetSpec current = spec;
        if (!changed.name().equals(name) || !changed.scope().equals(current.scope())
                || !java.util.Objects.equals(changed.window(), current.window())
                || !java.util.Arrays.equals(changed.warnAt(), thresholds)) {
            throw new IllegalArgumentException("budget '" + name + "': only its limits and mode can change while it"
                    + " runs; got " + changed);
        }
        return limitsOf(changed);
    }

    private static long[] limitsOf(BudgetSpec spec) {
        long[] l = new long[DIMENSIONS];
        l[TOTAL] = tokenLimit(spec, "max-tokens", spec.maxTokens());
        l[INPUT] = tokenLimit(spec, "max-input-tokens", spec.maxInputTokens());
        l[OUTPUT] = tokenLimit(spec, "max-output-tokens", spec.maxOutputTokens());
        l[COST] = costLimit(spec);
        return l;
    }

    private static long[][] pointsOf(double[] thresholds, long[] limits) {
        long[][] p = new long[thresholds.length][DIMENSIONS];
        for (int t = 0; t < thresholds.length; t++) {
            BigDecimal fraction = BigDecimal.valueOf(thresholds[t]);
            for (int d = 0; d < DIMENSIONS; d++) {
                p[t][d] = limits[d] == NO_LIMIT ? NO_LIMIT
                        : fraction.multiply(BigDecimal.valueOf(limits[d])).setScale(0, RoundingMode.CEILING)
                                .longValueExact();
            }
        }
        return p;
    }

    static LimitKind kind(int dimension) {
        return KINDS[dimension];
    }

    boolean hasTokenLimit() {
        return limits[TOTAL] != NO_LIMIT || limits[INPUT] != NO_LIMIT || limits[OUTPUT] != NO_LIMIT;
    }

    /** The window index of an instant: windows are aligned to the epoch (UTC). 0 when there is no window. */
    long windowIndex(long epochMillis) {
        return windowMillis == 0 ? 0 : Math.floorDiv(epochMillis, windowMillis);
    }

    /** Cost in USD to nano-USD, rounded half up; negative or non-finite costs count as 0. */
    static long toNanoUsd(Double costUsd) {
        return costUsd == null ? 0 : toNanoUsd(costUsd.doubleValue());
    }

    /** As {@link #toNanoUsd(Double)}, with NaN for unpriced. */
    static long toNanoUsd(double c) {
        if (!(c > 0) || Double.isInfinite(c)) {
            return 0;
        }
        return Math.round(c * 1e9);
    }

    private static long windowMillis(BudgetSpec spec) {
        Duration w = spec.window();
        if (w == null) {
            return 0;
        }
        if (w.isNegative() || w.isZero() || w.toMillis() == 0) {
            throw new IllegalArgumentException("budget '" + spec.name() + "': window " + w
                    + " is not a positive duration; expected e.g. 1h or 1d");
        }
        return w.toMillis();
    }

    private static long tokenLimit(BudgetSpec spec, String key, Long value) {
        if (value == null) {
            return NO_LIMIT;
        }
        if (value < 0) {
            throw new IllegalArgumentException("budget '" + spec.name() + "': " + key + " " + value
                    + " is negative; expected a token count >= 0");
        }
        return value;
    }

    private static long costLimit(BudgetSpec spec) {
        Double v = spec.maxCostUsd();
        if (v == null) {
            return NO_LIMIT;
        }
        if (!(v >= 0) || v > 9e9) {
            throw new IllegalArgumentException("budget '" + spec.name() + "': max-cost-usd " + v
                    + " is not a usable amount; expected a number of USD between 0 and 9000000000");
        }
        return BigDecimal.valueOf(v).movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValueExact();
    }
}
