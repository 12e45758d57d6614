package dev.tokenguard.budget;

/** The dimensions a budget can limit. */
public enum LimitKind {
    /** Total (input + output) tokens. */
    TOTAL_TOKENS,
    /** Input tokens. */
    INPUT_TOKENS,
    /** Output tokens. */
    OUTPUT_TOKENS,
    /** Estimated cost, counted in nano-USD (1e-9 USD) so that it adds up exactly. */
    COST_NANO_USD;

    /** True for the three token dimensions. */
    public boolean isTokens() {
        return this != COST_NANO_USD;
    }
}
