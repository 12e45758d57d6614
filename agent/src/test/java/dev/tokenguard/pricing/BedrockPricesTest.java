package dev.tokenguard.pricing;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Bedrock model ids, inference profiles and ARNs in the built-in table; the figures are worked out by hand. */
class BedrockPricesTest {
    private static final double TOLERANCE = 1e-12;
    private final PriceTable table = PriceTable.builtIn();

    @Test
    void aCrossRegionInferenceProfileIsPricedAsItsModel() {
        // 800 uncached x $3 + 200 cache reads x $0.30 + 500 output x $15, per million
        double expected = (800 * 3.00 + 200 * 0.30 + 500 * 15.00) / 1e6;
        assertEquals(expected, table.cost("aws.bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", 1000L, 500L,
                200L, 0L, null), TOLERANCE);
        assertEquals(expected, table.cost("aws.bedrock", "anthropic.claude-sonnet-4-20250514-v1:0", 1000L, 500L,
                200L, 0L, null), TOLERANCE);
    }

    @Test
    void anInferenceProfileArnIsPricedAsItsModel() {
        assertEquals(0.06 + 0.24, table.cost("aws.bedrock",
                "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-lite-v1:0", 1_000_000L,
                1_000_000L, null, null, null), TOLERANCE);
    }

    @Test
    void modelIdsOfEachFamily() {
        assertEquals((1000 * 3.00 + 100 * 15.00) / 1e6, table.cost("aws.bedrock",
                "anthropic.claude-3-5-sonnet-20240620-v1:0", 1000L, 100L, null, null, null), TOLERANCE);
        assertEquals((1000 * 0.72 + 100 * 0.72) / 1e6, table.cost("aws.bedrock", "meta.llama3-3-70b-instruct-v1:0",
                1000L, 100L, null, null, null), TOLERANCE);
        assertEquals((1000 * 0.80 + 100 * 3.20) / 1e6, table.cost("aws.bedrock", "amazon.nova-pro-v1:0", 1000L,
                100L, null, null, null), TOLERANCE);
        assertEquals(1000 * 0.02 / 1e6, table.cost("aws.bedrock", "amazon.titan-embed-text-v2:0", 1000L, 0L, null,
                null, null), TOLERANCE);
    }

    @Test
    void aModelTheTableDoesNotListIsUnpriced() {
        assertNull(table.cost("aws.bedrock", "cohere.command-r-v1:0", 1000L, 100L, null, null, null));
        assertNull(table.cost("aws.bedrock", "us.cohere.command-r-v1:0", 1000L, 100L, null, null, null));
    }
}
