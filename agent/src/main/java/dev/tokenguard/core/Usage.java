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
        finishReasons = finishReasons == null ? List.of() : List.copyOf(finishReasons);
        source = source == null ? UsageSource.PROVIDER : source;
    }

    /** Whether the provider (or an estimate) gave any token count. */
    public boolean hasTokens() {
        return inputTokens != null || outputTokens != null;
    }
}
