package dev.tokenguard.pricing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class PriceFileTest {
    @TempDir
    Path dir;

    private Path write(String json) throws IOException {
        Path file = dir.resolve("prices.json");
        Files.writeString(file, json, StandardCharsets.UTF_8);
        return file;
    }

    /** Single quotes stand for double quotes, to keep the JSON in the tests readable. */
    private static String json(String s) {
        return s.replace('\'', '"');
    }

    @Test
    void fileEntriesAddNewModelsAndKeepTheBuiltInOnes() throws Exception {
        PriceTable builtIn = PriceTable.builtIn();
        PriceTable table = PriceTable.builtInWith(write(json("""
                {'models': [
                  {'pattern': 'llama-3.3-70b*', 'provider': 'openai', 'input': 0.5, 'output': 0.75,
                   'note': 'our vLLM behind an OpenAI-compatible gateway'}
                ]}""")));

        ModelPrice llama = table.find("openai", "llama-3.3-70b-instruct").orElseThrow();
        assertEquals(new ModelPrice("llama-3.3-70b*", "openai", 0.5, null, null, 0.75, null), llama);
        assertTrue(table.find("anthropic", "llama-3.3-70b-instruct").isEmpty(), "provider-specific entry");
        assertEquals(builtIn.entries().size() + 1, table.entries().size());
        assertEquals(builtIn.find("openai", "gpt-4o"), table.find("openai", "gpt-4o"));
        assertEquals(builtIn.date(), table.date(), "a file without date keeps the built-in date");
    }

    @Test
    void fileEntriesReplaceBuiltInOnesWithTheSamePatternAndProvider() throws Exception {
        PriceTable table = PriceTable.builtInWith(write(json("""
                {'date': '2027-01-15', 'currency': 'USD', 'unit': 'per_million_tokens', 'models': [
                  {'pattern': 'GPT-4o', 'input': 2.0, 'cached_input': 1.0, 'output': 8.0, 'reasoning': null},
                  {'pattern': 'gpt-4o', 'provider': 'azure.ai.openai', 'input': 2.75, 'output': 11.0}
                ]}""")));

        assertEquals(2.0, table.find("openai", "gpt-4o").orElseThrow().inputPerMTok(), "replaced, case ignored");
        assertEquals(2.75, table.find("azure.ai.openai", "gpt-4o").orElseThrow().inputPerMTok());
        assertEquals(2.50, table.find("openai", "gpt-4o-2024-08-06").orElseThrow().inputPerMTok(),
                "other built-in entries stay");
        assertEquals(PriceTable.builtIn().entries().size() + 1, table.entries().size(),
                "one replaced, one added");
        assertEquals("2027-01-15", table.date());
        // 1,000 x 2.0 + 1,000 x 8.0 = 10,000 -> 0.01
        assertEquals(0.01, table.cost("openai", "gpt-4o", 1_000L, 1_000L, null, null, null), 1e-9);
    }

    @Test
    void emptyModelListChangesNothing() throws Exception {
        PriceTable table = PriceTable.builtInWith(write("{\"models\": []}"));
        assertEquals(PriceTable.builtIn().entries(), table.entries());
    }

    static Stream<Arguments> badFiles() {
        return Stream.of(
                // content, where (path or position), what the message must say
                arguments("{'models': [", "line 1", "not valid JSON at line 1, column 13: Unexpected end-of-input: expected"
                        + " close marker for Array (start marker at [line: 1, column: 12])"),
                arguments("prices = gpt-4o:2.5", "line 1, column 1", "not valid JSON"),
                arguments("", "", "the file is empty"),
                arguments("[]", "(top level)", "expected a JSON object"),
                arguments("{'models': []} {}", "line 1", "more content after the end of the JSON object"),
                arguments("{'date': '2026-01-01'}", "(top level)", "missing field \"models\""),
                arguments("{'models': {}}", "(models)", "expected an array of model entries, got an object"),
                arguments("{'models': ['gpt-4o']}", "(models[0])", "expected a model entry object"),
                arguments("{'models': [{'pattern': 'm', 'output': 1}]}", "(models[0])",
                        "missing field \"input\" (a price in USD per 1M tokens, a number >= 0)"),
                arguments("{'models': [{'input': 1, 'output': 1}]}", "(models[0])", "missing field \"pattern\""),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': -2.5}]}", "(models[0].output)",
                        "a price cannot be negative; expected a price in USD per 1M tokens, a number >= 0, got -2.5"),
                arguments("{'models': [{'pattern': 'm', 'input': '2.5', 'output': 1}]}", "(models[0].input)",
                        "got \"2.5\" (a string, not a number)"),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': 1, 'cached_input': true}]}",
                        "(models[0].cached_input)", "expected a price in USD per 1M tokens, a number >= 0, got true"),
                arguments("{'models': [{'pattern': 'm', 'input': 1e999, 'output': 1}]}", "(models[0].input)",
                        "got a number too large to be a price"),
                arguments("{'models': [{'pattern': 'gpt-*-mini', 'input': 1, 'output': 1}]}", "(models[0].pattern)",
                        "pattern \"gpt-*-mini\": '*' is allowed only at the end"),
                arguments("{'models': [{'pattern': 42, 'input': 1, 'output': 1}]}", "(models[0].pattern)",
                        "expected a model name such as \"gpt-4o\""),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': 1, 'inptu': 2}]}",
                        "(models[0].inptu)", "unknown field \"inptu\"; expected one of: pattern, provider, input"),
                arguments("{'model': []}", "(model)", "unknown field \"model\"; expected one of: date, currency"),
                arguments("{'models': [{'pattern': 'm', 'provider': 'OpenAI', 'input': 1, 'output': 1}]}",
                        "(models[0].provider)", "a GenAI provider name in lower case"),
                arguments("{'currency': 'EUR', 'models': []}", "(currency)", "expected \"USD\""),
                arguments("{'unit': 'per_1k_tokens', 'models': []}", "(unit)",
                        "expected \"per_million_tokens\" (prices are per 1M tokens), got \"per_1k_tokens\""),
                arguments("{'date': 'Nov 2026', 'models': []}", "(date)", "as YYYY-MM-DD"),
                arguments("{'date': '2026-02-30', 'models': []}", "(date)", "got \"2026-02-30\""),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': 1},"
                                + " {'pattern': 'M', 'input': 2, 'output': 2}]}", "(models[1])",
                        "duplicate entry: pattern \"M\" for any provider is already given at models[0]"),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'input': 2, 'output': 1}]}", "line 1",
                        "Duplicate field 'input'; give each field once"),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': 1, 'note': 7}]}", "(models[0].note)",
                        "expected a free-text note"));
    }

    @ParameterizedTest
    @MethodSource("badFiles")
    void badFileIsRefusedWithOneLineNamingTheFileThePlaceAndTheProblem(String content, String where,
                                                                       String problem) throws IOException {
        Path file = write(json(content));

        PricingException e = assertThrows(PricingException.class, () -> PriceTable.builtInWith(file));

        String message = e.getMessage();
        assertTrue(message.startsWith("tokenguard.pricing.file=" + file + ": "), message);
        assertTrue(message.contains(where), "where: " + where + " in: " + message);
        assertTrue(message.contains(problem), "problem: " + problem + " in: " + message);
        assertFalse(message.contains("\n") || message.contains("\r"), "one line: " + message);
    }

    @Test
    void problemLineAndColumnPointAtTheBadValue() throws IOException {
        Path file = write(json("""
                {
                  'models': [
                    {'pattern': 'gpt-4o', 'input': 2.5, 'output': 10},
                    {'pattern': 'gpt-4o-mini*', 'input': 0.15,
                     'output': -0.6}
                  ]
                }"""));

        PricingException e = assertThrows(PricingException.class, () -> PriceTable.builtInWith(file));

        assertTrue(e.getMessage().contains(": line 5, column 16 (models[1].output): a price cannot be negative"),
                e.getMessage());
    }

    @Test
    void syntaxErrorGivesItsLine() throws IOException {
        Path file = write(json("""
                {
                  'models': [
                    {'pattern': 'gpt-4o', 'input': 2.5, 'output': 10,}
                  ]
                }"""));

        PricingException e = assertThrows(PricingException.class, () -> PriceTable.builtInWith(file));

        assertTrue(e.getMessage().contains("not valid JSON at line 3"), e.getMessage());
    }

    @Test
    void missingFileIsReportedWithItsPath() {
        Path missing = dir.resolve("no-such-prices.json");

        PricingException e = assertThrows(PricingException.class, () -> PriceTable.builtInWith(missing));

        assertEquals("tokenguard.pricing.file=" + missing + ": cannot read the file (NoSuchFileException: "
                + missing + "); expected a readable JSON price table", e.getMessage());
    }

    @Test
    void directoryIsNotAPriceFile() {
        PricingException e = assertThrows(PricingException.class, () -> PriceTable.builtInWith(dir));
        assertTrue(e.getMessage().startsWith("tokenguard.pricing.file=" + dir + ": cannot read the file"),
                e.getMessage());
    }

    @Test
    void refusedFileLeavesTheBuiltInTableAlone() throws IOException {
        int before = PriceTable.builtIn().entries().size();
        Path file = write(json("{'models': [{'pattern': 'gpt-4o', 'input': 9, 'output': 9},"
                + " {'pattern': 'bad*one', 'input': 1, 'output': 1}]}"));

        assertThrows(PricingException.class, () -> PriceTable.builtInWith(file));

        assertEquals(before, PriceTable.builtIn().entries().size());
        assertEquals(2.5, PriceTable.builtIn().find("openai", "gpt-4o").orElseThrow().inputPerMTok());
        assertNull(PriceTable.builtIn().cost("openai", "bad-one", 1L, 1L, null, null, null));
    }
}
