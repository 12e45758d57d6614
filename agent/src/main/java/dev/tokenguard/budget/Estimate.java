package dev.tokenguard.budget;

/**
 * What a call is expected to use, reserved before it is admitted: its input counted locally, its output cap (or the
 * configured reserve for requests without one) and the priced estimate of both.
 *
 * @param inputTokens  expected input tokens, >= 0
 * @param outputTokens expected output tokens, >= 0
 * @param costNanoUsd  expected cost in nano-USD, >= 0 (0 when the model is not priced)
 */
public record Estimate(long inputTokens, long outputTokens, long costNanoUsd) {
    /** Nothing expected: such a reservation still marks the call as in flight. */
    public static final Estimate NONE = new Estimate(0, 0, 0);

    public Estimate {
        if (inputTokens < 0 || outputTokens < 0 || costNanoUsd < 0) {
            throw new IllegalArgumentException("an estimate must be >= 0; got input " + inputTokens + ", output "
                    + outputTokens + ", cost " + costNanoUsd + " nano-USD");
        }
    }

    /** An estimate with a cost in USD (null or unpriced: 0). */
    public static Estimate of(long inputTokens, long outputTokens, Double costUsd) {
        return new Estimate(inputTokens, outputTokens, BudgetLimits.toNanoUsd(costUsd));
    }

    /** An estimate with a cost in USD ({@code NaN} or unpriced: 0), without boxing it. */
    public static Estimate ofUsd(long inputTokens, long outputTokens, double costUsd) {
        return new Estimate(inputTokens, outputTokens, BudgetLimits.toNanoUsd(costUsd));
    }

    public long totalTokens() {
        return inputTokens + outputTokens;
    }

    /** The amount of one dimension ({@link BudgetLimits#TOTAL}, ...). */
    long amount(int dimension) {
        return switch (dimension) {
            case BudgetLimits.TOTAL -> inputTokens + outputTokens;
            case BudgetLimits.INPUT -> inputTokens;
            case BudgetLimits.OUTPUT -> outputTokens;
            default -> costNanoUsd;
        };
    }
}
