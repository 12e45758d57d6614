package dev.tokenguard.pricing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guards the shipped price table: it loads, it is dated, and every entry is sane. */
class BuiltInPricesTest {
    private static final double TOLERANCE = 1e-9;
    private final PriceTable table = PriceTable.builtIn();

    @Test
    void loadsOnceAndIsDated() {
        assertSame(table, PriceTable.builtIn());
        LocalDate date = LocalDate.parse(table.date());
        assertTrue(date.isAfter(LocalDate.of(2025, 8, 7)), "the table lists gpt-5, released 2025-08-07: " + date);
        assertTrue(table.entries().size() >= 30, table.toString());
    }

    /** The entries of the shipped file, read as plain JSON (not through the table's own reader). */
    static JsonNode shippedModels() throws Exception {
        try (InputStream in = PriceTable.class.getResourceAsStream("prices.json")) {
            assertNotNull(in, "prices.json next to PriceTable");
            JsonNode models = new ObjectMapper().readTree(in).get("models");
            assertTrue(models.isArray() && models.size() >= 30, "the shipped table lists at least 30 entries");
            return models;
        }
    }

    @Test
    void everyEntryIsSane() throws Exception {
        assertEquals(shippedModels().size(), table.entries().size(), "one entry per model in prices.json");
        Set<String> keys = new HashSet<>();
        for (ModelPrice p : table.entries()) {
            String name = p.pattern();
            assertTrue(keys.add(PriceTable.key(p)), "duplicate " + name);
            assertNull(p.provider(), name + ": built-in model names are the vendors' own; no provider needed");
            assertTrue(p.inputPerMTok() > 0, name + ": input price must be positive");
            if (name.startsWith("text-embedding-") || name.contains("-embed-") || name.contains("-embedding-")) {
                assertEquals(0.0, p.outputPerMTok(), name + ": embeddings have no output tokens");
            } else {
                assertTrue(p.outputPerMTok() >= p.inputPerMTok(), name + ": output costs at least input");
            }
            if (p.cachedInputPerMTok() != null) {
                assertTrue(p.cachedInputPerMTok() > 0 && p.cachedInputPerMTok() < p.inputPerMTok(),
                        name + ": cached input must be cheaper than input");
            }
            if (p.cacheWritePerMTok() != null) {
                assertTrue(p.cacheWritePerMTok() > p.inputPerMTok(), name + ": a cache write costs more than input");
            }
            assertTrue(p.inputPerMTok() < 100 && p.outputPerMTok() < 200,
                    name + ": prices are per 1M tokens, not per 1K");
        }
    }

    @Test
    void anthropicCachePricesFollowTheListedMultipliers() throws Exception {
        int shippedClaude = 0;
        for (JsonNode model : shippedModels()) {
            shippedClaude += model.get("pattern").asText().startsWith("claude-") ? 1 : 0;
        }
        assertTrue(shippedClaude >= 7, "claude entries in prices.json: " + shippedClaude);
        int claude = 0;
        for (ModelPrice p : table.entries()) {
            if (p.pattern().startsWith("claude-")) {
                claude++;
                assertNotNull(p.cachedInputPerMTok(), p.pattern());
                assertNotNull(p.cacheWritePerMTok(), p.pattern());
                assertEquals(0.10 * p.inputPerMTok(), p.cachedInputPerMTok(), TOLERANCE, p.pattern() + " cache read");
                assertEquals(1.25 * p.inputPerMTok(), p.cacheWritePerMTok(), TOLERANCE, p.pattern() + " cache write");
            }
        }
        assertEquals(shippedClaude, claude, "every claude entry of prices.json was checked");
    }

    /** The models the table promises to price, by the names the providers report, with input and output prices. */
    @ParameterizedTest
    @CsvSource({
            "openai,     gpt-4o,                      2.50,  10.00",
            "openai,     gpt-4o-2024-08-06,           2.50,  10.00",
            "openai,     gpt-4o-mini,                 0.15,   0.60",
            "openai,     gpt-4o-mini-2024-07-18,      0.15,   0.60",
            "openai,     gpt-4.1,                     2.00,   8.00",
            "openai,     gpt-4.1-2025-04-14,          2.00,   8.00",
            "openai,     gpt-4.1-mini-2025-04-14,     0.40,   1.60",
            "openai,     gpt-4.1-nano,                0.10,   0.40",
            "openai,     o1,                         15.00,  60.00",
            "openai,     o1-2024-12-17,              15.00,  60.00",
            "openai,     o3,                          2.00,   8.00",
            "openai,     o3-2025-04-16,               2.00,   8.00",
            "openai,     o3-mini-2025-01-31,          1.10,   4.40",
            "openai,     o4-mini-2025-04-16,          1.10,   4.40",
            "openai,     gpt-5,                       1.25,  10.00",
            "openai,     gpt-5-2025-08-07,            1.25,  10.00",
            "openai,     gpt-5-mini-2025-08-07,       0.25,   2.00",
            "openai,     gpt-5-nano,                  0.05,   0.40",
            "openai,     text-embedding-3-small,      0.02,   0",
            "openai,     text-embedding-3-large,      0.13,   0",
            "azure.ai.openai, gpt-4o-mini,            0.15,   0.60",
            "anthropic,  claude-3-5-haiku-20241022,   0.80,   4.00",
            "anthropic,  claude-3-5-haiku-latest,     0.80,   4.00",
            "anthropic,  claude-3-7-sonnet-20250219,  3.00,  15.00",
            "anthropic,  claude-sonnet-4-20250514,    3.00,  15.00",
            "anthropic,  claude-sonnet-4-0,           3.00,  15.00",
            "anthropic,  claude-opus-4-20250514,     15.00,  75.00",
            "anthropic,  claude-opus-4-1-20250805,   15.00,  75.00",
            "anthropic,  claude-haiku-4-5-20251001,   1.00,   5.00",
            "anthropic,  claude-sonnet-4-5,           3.00,  15.00",
            "gcp.gemini, gemini-2.0-flash,            0.10,   0.40",
            "gcp.gemini, gemini-2.5-flash,            0.30,   2.50",
            "gcp.gemini, gemini-2.5-pro,              1.25,  10.00",
    })
    void pricesTheModelsItPromises(String provider, String model, double input, double output) {
        ModelPrice p = table.find(provider, model).orElseThrow(() -> new AssertionError("unpriced: " + model));
        assertEquals(input, p.inputPerMTok(), TOLERANCE, model + " input");
        assertEquals(output, p.outputPerMTok(), TOLERANCE, model + " output");
    }
}
