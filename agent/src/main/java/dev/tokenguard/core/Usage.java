package dev.tokenguard.core;

import java.util.List;

/**
 * What an instrumentation read from a response: token counts (null when unknown), the response's
 * model, id and finish reasons, and whether the counts were reported or estimated.
 */
public record Usage(Long inputTokens, Long outputTokens, Long cacheReadTokens, Long cacheWriteTokens,
                    Long reasoningTokens, String responseModel, String responseId, List<String> finishReasons,
                    UsageSource source) {

    /** Nothing known. */
    public static final Usage UNKNOWN = new Usage(null, null, null, null, null, null, null, List.of(),
            UsageSource.PROVIDER);

    public Usage {
        // one reason in a list being built (the usual case) is copied without the array List.copyOf makes of it
        finishReasons = finishReasons == null ? List.of()
                : finishReasons instanceof java.util.ArrayList && finishReasons.size() == 1
                ? List.of(finishReasons.get(0)) : List.copyOf(finishReasons);
        source = source == null ? UsageSource.PROVIDER : source;
    }

    /**
     * What makes these counts unusable for a charge, or null when they are fine: no input count (no
     * usage in the response, or its fields renamed), no output count where the operation has output,
     * a negative count, or counts whose total overflows.
     */
    public String problem(boolean expectsOutput) {
        if (inputTokens == null) {
            return "no input token count";
        }
        if (expectsOutput && outputTokens == null) {
            return "no output token count";
        }
        Long negative = negative(inputTokens, negative(outputTokens, negative(cacheReadTokens,
                negative(cacheWriteTokens, negative(reasoningTokens, null)))));
        if (negative != null) {
            return "a negative count (" + negative + ")";
        }
        try {
            Math.addExact(inputTokens, outputTokens == null ? 0L : outputTokens);
        } catch (ArithmeticException e) {
            return "counts that overflow when added";
        }
        return null;
    }

    /** {@code n} when it is negative, else {@code later} (the first negative count in field order; no array). */
    private static Long negative(Long n, Long later) {
        return n != null && n < 0 ? n : later;
    }

    /** Whether the provider (or an estimate) gave any token count. */
    public boolean hasTokens() {
        return inputTokens != null || outputTokens != null;
    }
}
