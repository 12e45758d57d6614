package dev.tokenguard.pricing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PriceMatchingTest {

    private static ModelPrice price(String pattern, String provider, double input) {
        return new ModelPrice(pattern, provider, input, null, null, input * 4, null);
    }

    private static String winner(PriceTable table, String provider, String model) {
        Optional<ModelPrice> found = table.find(provider, model);
        return found.map(p -> p.pattern() + (p.provider() == null ? "" : "@" + p.provider())).orElse("none");
    }

    @Test
    void exactNameBeatsPrefixAndPrefixCoversDatedSnapshots() {
        PriceTable table = PriceTable.of("2026-01-01", List.of(price("gpt-4o*", null, 1), price("gpt-4o", null, 2)));

        assertEquals("gpt-4o", winner(table, "openai", "gpt-4o"));
        assertEquals("gpt-4o*", winner(table, "openai", "gpt-4o-2024-08-06"));
    }

    @Test
    void longerPrefixBeatsShorterWhateverTheOrder() {
        List<ModelPrice> entries = new ArrayList<>(List.of(
                price("gpt-4o*", null, 2.5), price("gpt-4o-mini*", null, 0.15), price("gpt-*", null, 9)));
        for (int i = 0; i < 2; i++) {
            PriceTable table = PriceTable.of("2026-01-01", entries);
            assertEquals("gpt-4o-mini*", winner(table, "openai", "gpt-4o-mini-2024-07-18"));
            assertEquals("gpt-4o*", winner(table, "openai", "gpt-4o-2024-11-20"));
            assertEquals("gpt-*", winner(table, "openai", "gpt-4.1"));
            Collections.reverse(entries);
        }
    }

    @Test
    void providerSpecificEntryBeatsAgnosticOneEvenWhenLessSpecificInPattern() {
        PriceTable table = PriceTable.of("2026-01-01", List.of(
                price("gpt-4o", null, 2.5),
                price("gpt-4o*", "azure.ai.openai", 2.75),
                price("gpt-4o", "openai", 2.6)));

        assertEquals("gpt-4o*@azure.ai.openai", winner(table, "azure.ai.openai", "gpt-4o"));
        assertEquals("gpt-4o@openai", winner(table, "openai", "gpt-4o"));
        assertEquals("gpt-4o", winner(table, "aws.bedrock", "gpt-4o"));
        assertEquals("gpt-4o", winner(table, null, "gpt-4o"), "no provider: only agnostic entries match");
        assertEquals("none", winner(table, "openai", "gpt-4o-2024-08-06"),
                "the azure prefix must not price another provider's call");
    }

    @Test
    void providerSpecificEntriesOfTheSameKindRankByPattern() {
        PriceTable table = PriceTable.of("2026-01-01", List.of(
                price("claude-*", "aws.bedrock", 1), price("claude-sonnet-4*", "aws.bedrock", 3)));

        assertEquals("claude-sonnet-4*@aws.bedrock", winner(table, "aws.bedrock", "claude-sonnet-4-5"));
        assertEquals("claude-*@aws.bedrock", winner(table, "aws.bedrock", "claude-3-5-haiku"));
    }

    @Test
    void catchAllStarMatchesEverythingButLosesToAnythingElse() {
        PriceTable table = PriceTable.of("2026-01-01", List.of(price("*", null, 1), price("llama*", null, 0.5)));

        assertEquals("*", winner(table, "openai", "some-model-nobody-lists"));
        assertEquals("llama*", winner(table, "openai", "llama-3.3-70b"));
    }

    @Test
    void matchingIgnoresCaseSurroundingSpaceAndGeminiResourcePrefix() {
        PriceTable table = PriceTable.of("2026-01-01", List.of(
                price("gemini-2.5-pro", null, 1.25), price("GPT-4o-mini*", "OpenAI", 0.15)));

        assertEquals("gemini-2.5-pro", winner(table, "gcp.gemini", "models/gemini-2.5-pro"));
        assertEquals("gemini-2.5-pro", winner(table, "gcp.gemini", " Gemini-2.5-Pro "));
        assertEquals("GPT-4o-mini*@OpenAI", winner(table, "openai", "gpt-4o-mini-2024-07-18"));
    }

    @ParameterizedTest
    @CsvSource(nullValues = "NULL", value = {
            "openai, gpt-4",
            "openai, gpt-4o-mini",     // a prefix "gpt-4o-mini*" is not in this table; "gpt-4o" is exact only
            "openai, ''",
            "openai, '   '",
            "openai, NULL",
            "NULL, NULL",
    })
    void unknownOrMissingModelFindsNothing(String provider, String model) {
        PriceTable table = PriceTable.of("2026-01-01", List.of(price("gpt-4o", null, 2.5)));

        assertTrue(table.find(provider, model).isEmpty());
        assertNull(table.cost(provider, model, 1000L, 1000L, null, null, null));
    }

    @Test
    void builtInTablePricesDatedSnapshotsByTheirFamilyAndLeavesSiblingsUnpriced() {
        PriceTable table = PriceTable.builtIn();

        assertEquals("gpt-4o-mini-20*", winner(table, "openai", "gpt-4o-mini-2024-07-18"));
        assertEquals(0.15, table.find("openai", "gpt-4o-mini-2024-07-18").orElseThrow().inputPerMTok());
        assertEquals("gpt-4o-20*", winner(table, "azure.ai.openai", "gpt-4o-2024-11-20"));
        assertEquals(5.00, table.find("openai", "gpt-4o-2024-05-13").orElseThrow().inputPerMTok(),
                "the first gpt-4o snapshot has its own, higher price");
        assertEquals("claude-sonnet-4-5*", winner(table, "anthropic", "claude-sonnet-4-5-20250929"));
        assertEquals("claude-sonnet-4-20*", winner(table, "anthropic", "claude-sonnet-4-20250514"));
        assertEquals("claude-opus-4-1*", winner(table, "anthropic", "claude-opus-4-1-20250805"));
        assertEquals("claude-opus-4-5*", winner(table, "anthropic", "claude-opus-4-5-20251101"),
                "Opus 4.5 has its own, lower price, not Opus 4's");
        assertEquals(5.00, table.find("anthropic", "claude-opus-4-5-20251101").orElseThrow().inputPerMTok());
        assertEquals("gemini-2.5-pro", winner(table, "gcp.gemini", "models/gemini-2.5-pro"));

        // siblings with other prices must not inherit the family's price
        assertEquals("none", winner(table, "openai", "gpt-4o-audio-preview"));
        assertEquals("none", winner(table, "openai", "o3-pro"));
        assertEquals("none", winner(table, "openai", "o1-mini"));
        assertEquals("none", winner(table, "openai", "gpt-5-pro"));
        assertEquals("none", winner(table, "gcp.gemini", "gemini-2.5-flash-image"));
        // Flash-Lite has its own, lower price, not Flash's
        assertEquals("gemini-2.5-flash-lite", winner(table, "gcp.gemini", "gemini-2.5-flash-lite"));
        assertEquals(0.10, table.find("gcp.gemini", "gemini-2.5-flash-lite").orElseThrow().inputPerMTok());
        assertEquals("gemini-3-pro-preview*", winner(table, "gcp.vertex_ai", "gemini-3-pro-preview"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "gpt-*-mini | '*' is allowed only at the end",
            "*gpt       | '*' is allowed only at the end",
            "gpt 4o     | white space",
            "''         | got a blank string",
    })
    void modelPriceRejectsBadPatterns(String pattern, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ModelPrice(pattern, null, 1, null, null, 1, null));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void modelPriceRejectsNegativeOrNonFinitePrices() {
        assertThrows(IllegalArgumentException.class, () -> new ModelPrice("m", null, -1, null, null, 1, null));
        assertThrows(IllegalArgumentException.class, () -> new ModelPrice("m", null, 1, -0.5, null, 1, null));
        assertThrows(IllegalArgumentException.class, () -> new ModelPrice("m", null, 1, null, Double.NaN, 1, null));
        assertThrows(IllegalArgumentException.class,
                () -> new ModelPrice("m", null, 1, null, null, Double.POSITIVE_INFINITY, null));
        assertThrows(IllegalArgumentException.class, () -> new ModelPrice("m", " ", 1, null, null, 1, null));
        ModelPrice free = new ModelPrice("m*", null, 0, 0.0, 0.0, 0, 0.0);
        assertTrue(free.isPrefix());
        assertFalse(new ModelPrice("m", null, 0, null, null, 0, null).isPrefix());
    }
}
