package dev.tokenguard.otel;

import java.util.Objects;

/**
 * The state of the call's default budget after the call was charged (or, for a refused call,
 * when it was refused). Exported as the span attributes {@code tokenguard.budget.*}.
 *
 * @param name        budget name, e.g. {@code default}
 * @param scope       scope key, e.g. {@code thread:worker-3#42}
 * @param usedTokens  tokens used in this scope, or {@code null} when unknown
 * @param limitTokens the token limit, or {@code null} when the budget has no token limit
 */
public record BudgetInfo(String name, String scope, Long usedTokens, Long limitTokens) {
    public BudgetInfo {
        Objects.requireNonNull(name, "budget name must not be null; the default budget is called 'default'");
        Objects.requireNonNull(scope, "budget scope must not be null; e.g. 'thread:main#1'");
    }
}
