package dev.tokenguard.pricing;


/**
 * The list prices of the models a pattern names, in USD per 1M tokens.
 *
 * <p>{@code pattern} is either an exact model name ({@code gpt-4o}) or a prefix ending in {@code *}
 * ({@code gpt-4o-mini-20*}); {@code *} is allowed only at the end, and {@code *} alone matches every model.
 * Patterns match model names case-insensitively. {@code provider} is a GenAI provider name ({@code openai},
 * {@code anthropic}, {@code aws.bedrock}, {@code gcp.gemini}, {@code azure.ai.openai}, ...) or {@code null} for
 * an entry that applies whatever the provider.
 *
 * <p>The optional prices fall back as {@link PriceTable} documents: a missing cached-input or cache-write price
 * means those tokens cost the input price; a missing reasoning price means reasoning tokens cost the output price.
 *
 * @param pattern            exact model name, or a prefix ending in {@code *}
 * @param provider           GenAI provider name, or {@code null} for any provider
 * @param inputPerMTok       uncached input tokens
 * @param cachedInputPerMTok input tokens read from the provider's prompt cache, or {@code null}
 * @param cacheWritePerMTok  input tokens written to the provider's prompt cache, or {@code null}
 * @param outputPerMTok      output tokens
 * @param reasoningPerMTok   reasoning tokens (a part of the output tokens), or {@code null}
 */
public record ModelPrice(String pattern, String provider, double inputPerMTok, Double cachedInputPerMTok,
                         Double cacheWritePerMTok, double outputPerMTok, Double reasoningPerMTok) {

    public ModelPrice {
        String problem = patternProblem(pattern);
        if (problem != null) {
            throw new IllegalArgumentException("model price pattern " + quote(pattern) + ": " + problem);
        }
        if (provider != null && provider.isBlank()) {
            throw new IllegalArgumentException("model price " + quote(pattern)
                    + ": provider must be a GenAI provider name or null for any provider, got a blank string");
        }
        requirePrice(pattern, "input", inputPerMTok);
        requirePrice(pattern, "cached input", cachedInputPerMTok);
        requirePrice(pattern, "cache write", cacheWritePerMTok);
        requirePrice(pattern, "output", outputPerMTok);
        requirePrice(pattern, "reasoning", reasoningPerMTok);
    }

    /** Whether the pattern is a prefix ({@code ...*}) rather than an exact model name. */
    public boolean isPrefix() {
        return pattern.endsWith("*");
    }

    /** Whether this entry's pattern matches {@code model}, which must already be lower case. */
    boolean matches(String lowerCaseModel) {
        if (isPrefix()) {
            int n = pattern.length() - 1;
            return lowerCaseModel.regionMatches(true, 0, pattern, 0, n);
        }
        return lowerCaseModel.equalsIgnoreCase(pattern);
    }

    /**
     * Whether this entry is a more specific match than {@code other} (both matching the same model and provider):
     * a provider-specific entry beats a provider-agnostic one; then an exact name beats a prefix; then the longer
     * prefix beats the shorter.
     */
    boolean moreSpecificThan(ModelPrice other) {
        if ((provider != null) != (other.provider != null)) {
            return provider != null;
        }
        if (isPrefix() != other.isPrefix()) {
            return !isPrefix();
        }
        return pattern.length() > other.pattern.length();
    }

    /** Why {@code pattern} is not a valid pattern, or {@code null} when it is. */
    static String patternProblem(String pattern) {
        if (pattern == null || pattern.isBlank()) {
            return "must be a model name such as \"gpt-4o\" or a prefix such as \"gpt-4o-mini*\", got "
                    + (pattern == null ? "nothing" : "a blank string");
        }
        for (int i = 0; i < pattern.length(); i++) {
            if (Character.isWhitespace(pattern.charAt(i))) {
                return "must not contain white space; write the model name as the provider reports it,"
                        + " e.g. \"gpt-4o-mini\"";
            }
        }
        int star = pattern.indexOf('*');
        if (star >= 0 && star != pattern.length() - 1) {
            return "'*' is allowed only at the end, as a prefix match such as \"gpt-4o-mini*\"";
        }
        return null;
    }

    private static void requirePrice(String pattern, String what, Double price) {
        if (price != null && !(price >= 0 && Double.isFinite(price))) {
            throw new IllegalArgumentException("model price " + quote(pattern) + ": " + what
                    + " price must be a finite number >= 0 (USD per 1M tokens), got " + price);
        }
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + s + "\"";
    }
}
