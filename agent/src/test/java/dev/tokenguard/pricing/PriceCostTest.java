package dev.tokenguard.pricing;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Expected values are computed by hand in the comments: tokens x USD per 1M tokens, then / 1,000,000. */
class PriceCostTest {
    private static final double TOLERANCE = 1e-9;

    /** input 1, cached 0.25, write 1.5, output 4, reasoning 2 (all USD per 1M). */
    private static final ModelPrice FULL = new ModelPrice("full", null, 1.0, 0.25, 1.5, 4.0, 2.0);
    /** input 2, output 8, no optional prices. */
    private static final ModelPrice PLAIN = new ModelPrice("plain", null, 2.0, null, null, 8.0, null);
    private static final PriceTable TABLE = PriceTable.of("2026-01-01", List.of(FULL, PLAIN));
    private static final PriceTable BUILT_IN = PriceTable.builtIn();

    @Test
    void plainInputAndOutput() {
        // gpt-4o: 1,000 x 2.50 + 500 x 10.00 = 2,500 + 5,000 = 7,500 -> 0.0075
        assertEquals(0.0075, BUILT_IN.cost("openai", "gpt-4o", 1000L, 500L, null, null, null), TOLERANCE);
    }

    @Test
    void openAiCachedTokensArePartOfInputAndCostTheCachedPrice() {
        // gpt-4o-mini: input 10,000 of which 4,000 cached; output 1,000
        // 6,000 x 0.15 + 4,000 x 0.075 + 1,000 x 0.60 = 900 + 300 + 600 = 1,800 -> 0.0018
        assertEquals(0.0018, BUILT_IN.cost("openai", "gpt-4o-mini-2024-07-18", 10_000L, 1_000L, 4_000L, 0L, 0L),
                TOLERANCE);
    }

    @Test
    void anthropicCacheReadAndWriteArePartOfInput() {
        // claude-sonnet-4-5: input 10,000 = 2,000 uncached + 6,000 cache read + 2,000 cache write; output 500
        // 2,000 x 3 + 6,000 x 0.30 + 2,000 x 3.75 + 500 x 15 = 6,000 + 1,800 + 7,500 + 7,500 = 22,800 -> 0.0228
        assertEquals(0.0228, BUILT_IN.cost("anthropic", "claude-sonnet-4-5-20250929", 10_000L, 500L, 6_000L,
                2_000L, null), TOLERANCE);
    }

    @Test
    void everyPriceKindAtOnce() {
        // input 10,000 = 5,000 uncached + 3,000 read + 2,000 written; output 3,000 of which 1,000 reasoning
        // 5,000 x 1 + 3,000 x 0.25 + 2,000 x 1.5 + 2,000 x 4 + 1,000 x 2
        //   = 5,000 + 750 + 3,000 + 8,000 + 2,000 = 18,750 -> 0.01875
        assertEquals(0.01875, TABLE.cost("openai", "full", 10_000L, 3_000L, 3_000L, 2_000L, 1_000L), TOLERANCE);
    }

    @Test
    void reasoningTokensCostTheOutputPriceWhenNoReasoningPriceIsGiven() {
        // o3: input 1,000, output 3,000 of which 2,500 reasoning: 1,000 x 2 + 3,000 x 8 = 26,000 -> 0.026
        assertEquals(0.026, BUILT_IN.cost("openai", "o3", 1_000L, 3_000L, null, null, 2_500L), TOLERANCE);
        assertEquals(0.026, BUILT_IN.cost("openai", "o3", 1_000L, 3_000L, null, null, null), TOLERANCE);
    }

    @Test
    void reasoningPriceAppliesOnlyToTheReasoningPartOfOutput() {
        // output 3,000 of which 2,000 reasoning: 1,000 x 1 (input) + 1,000 x 4 + 2,000 x 2 = 9,000 -> 0.009
        assertEquals(0.009, TABLE.cost(null, "full", 1_000L, 3_000L, null, null, 2_000L), TOLERANCE);
    }

    @Test
    void missingCachePricesFallBackToTheInputPrice() {
        // plain: input 1,000 incl. 300 read + 200 written, all at 2; output 100 x 8
        // 1,000 x 2 + 100 x 8 = 2,800 -> 0.0028
        assertEquals(0.0028, TABLE.cost(null, "plain", 1_000L, 100L, 300L, 200L, null), TOLERANCE);
    }

    @Test
    void inconsistentCountsNeverGoNegative() {
        // cache counts larger than input: uncached is 0, the cache counts are still charged
        // 0 x 1 + 80 x 0.25 + 50 x 1.5 = 20 + 75 = 95 -> 0.000095
        assertEquals(0.000095, TABLE.cost(null, "full", 100L, 0L, 80L, 50L, null), TOLERANCE);
        // reasoning larger than output: non-reasoning output is 0; 150 x 2 = 300 -> 0.0003
        assertEquals(0.0003, TABLE.cost(null, "full", 0L, 100L, null, null, 150L), TOLERANCE);
        // negative counts count as 0: 1,000 x 2 = 2,000 -> 0.002
        assertEquals(0.002, TABLE.cost(null, "plain", 1_000L, -5L, -1L, -1L, -1L), TOLERANCE);
    }

    @Test
    void oneUnknownSideCountsAsZeroButBothUnknownIsUnknown() {
        assertEquals(0.002, TABLE.cost(null, "plain", 1_000L, null, null, null, null), TOLERANCE);
        assertEquals(0.008, TABLE.cost(null, "plain", null, 1_000L, null, null, null), TOLERANCE);
        assertNull(TABLE.cost(null, "plain", null, null, 5L, 5L, 5L));
    }

    @Test
    void unpricedModelCostsNull() {
        assertNull(BUILT_IN.cost("openai", "my-fine-tune-nobody-lists", 1_000L, 1_000L, null, null, null));
        assertNull(BUILT_IN.cost("openai", null, 1_000L, 1_000L, null, null, null));
    }

    @Test
    void embeddingsCostInputOnly() {
        // text-embedding-3-small: 50,000 x 0.02 = 1,000 -> 0.001
        assertEquals(0.001, BUILT_IN.cost("openai", "text-embedding-3-small", 50_000L, 0L, null, null, null),
                TOLERANCE);
    }

    @Test
    void decimalArithmeticAvoidsBinaryFloatSurprises() {
        // In binary doubles 0.1 * 3 is 0.30000000000000004; the table sums in decimal, then rounds once.
        PriceTable tenth = PriceTable.of("2026-01-01", List.of(new ModelPrice("m", null, 0.1, null, null, 0.2,
                null)));
        assertEquals(0.3, tenth.cost(null, "m", 3_000_000L, 0L, null, null, null));
        assertEquals(0.00015, BUILT_IN.cost("openai", "gpt-4o-mini", 1_000L, 0L, null, null, null));
    }

    @Test
    void hugeCountsDoNotOverflow() {
        // 4e12 tokens x 75 (claude-opus-4-1 output) = 3e14 -> 300,000,000 USD
        Double cost = BUILT_IN.cost("anthropic", "claude-opus-4-1", 0L, 4_000_000_000_000L, null, null, null);
        assertNotNull(cost);
        assertEquals(300_000_000.0, cost, TOLERANCE);
    }

    @Test
    void everyCostIsTheDoubleNearestToTheExactDecimalSum() {
        // the oracle: the formula of the class comment in BigDecimal, rounded to a double once
        ModelPrice finePrice = new ModelPrice("fine", null, 0.0000001, null, null, 3.3333333, null); // > 6 decimals
        PriceTable table = PriceTable.of("2026-01-01", List.of(FULL, PLAIN, finePrice));
        long[][] counts = {{1, 1}, {7, 3}, {999_999, 1}, {123_457, 98_765}, {3, 0}, {0, 17}};
        int checked = 0;
        for (ModelPrice price : List.of(FULL, PLAIN, finePrice)) {
            for (long[] c : counts) {
                java.math.BigDecimal exact = java.math.BigDecimal.valueOf(c[0])
                        .multiply(java.math.BigDecimal.valueOf(price.inputPerMTok()))
                        .add(java.math.BigDecimal.valueOf(c[1]).multiply(java.math.BigDecimal.valueOf(
                                price.outputPerMTok())))
                        .movePointLeft(6);
                for (int twice = 0; twice < 2; twice++) { // the second lookup is the remembered one
                    assertEquals(exact.doubleValue(), table.cost(null, price.pattern(), c[0], c[1], null, null, null),
                            price.pattern() + " " + c[0] + "/" + c[1]);
                    checked++;
                }
            }
        }
        assertEquals(36, checked);
    }

    @Test
    void aRememberedLookupStillHonoursTheProvider() {
        ModelPrice forAzure = new ModelPrice("plain", "azure.ai.openai", 1.0, null, null, 1.0, null);
        PriceTable table = PriceTable.of("2026-01-01", List.of(PLAIN, forAzure));
        // 1,000 x 2 -> 0.002 for any provider; 1,000 x 1 -> 0.001 for azure.ai.openai
        assertEquals(0.002, table.cost("openai", "plain", 1_000L, 0L, null, null, null));
        assertEquals(0.001, table.cost("azure.ai.openai", "plain", 1_000L, 0L, null, null, null));
        assertEquals(0.002, table.cost("openai", "plain", 1_000L, 0L, null, null, null));
        assertEquals(0.002, table.cost(null, "plain", 1_000L, 0L, null, null, null));
        assertEquals(0.001, table.cost("azure.ai.openai", "PLAIN", 1_000L, 0L, null, null, null));
    }
}
