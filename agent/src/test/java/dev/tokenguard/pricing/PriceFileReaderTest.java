package dev.tokenguard.pricing;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The price reader works on jackson-core's streaming parser alone; these tests hold it to what a JSON tree reader
 * (Jackson databind, used here as the independent oracle) makes of the same bytes: every built-in entry, and for a
 * malformed file the same line, column and parser message.
 */
class PriceFileReaderTest {
    private static final String SOURCE = "tokenguard.pricing.file=/etc/prices.json";
    private static final String TABLE_FORM = "expected a JSON object {\"date\": \"YYYY-MM-DD\", \"currency\": \"USD\","
            + " \"unit\": \"per_million_tokens\", \"models\": [...]}";

    private static final ObjectMapper TREE = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static byte[] shipped() throws Exception {
        try (InputStream in = PriceTable.class.getResourceAsStream("prices.json")) {
            assertNotNull(in, "prices.json next to PriceTable");
            return in.readAllBytes();
        }
    }

    /** A price field of a tree entry: null when the field is absent or JSON null. */
    private static Double optional(JsonNode entry, String field) {
        JsonNode n = entry.get(field);
        return n == null || n.isNull() ? null : n.doubleValue();
    }

    @Test
    void theBuiltInTableHoldsEveryEntryOfTheShippedFileInFileOrder() throws Exception {
        JsonNode file = TREE.readTree(shipped());
        JsonNode models = file.get("models");
        PriceTable table = PriceTable.builtIn();

        assertEquals(file.get("date").textValue(), table.date());
        assertEquals(71, models.size(), "entries in prices.json, counted by hand");
        assertEquals(models.size(), table.entries().size());
        for (int i = 0; i < models.size(); i++) {
            JsonNode m = models.get(i);
            JsonNode provider = m.get("provider");
            ModelPrice expected = new ModelPrice(m.get("pattern").textValue(),
                    provider == null || provider.isNull() ? null : provider.textValue(),
                    m.get("input").doubleValue(), optional(m, "cached_input"), optional(m, "cache_write"),
                    m.get("output").doubleValue(), optional(m, "reasoning"));
            assertEquals(expected, table.entries().get(i), "models[" + i + "]");
        }
    }

    @Test
    void aPartialFileKeepsEveryGivenValue() throws Exception {
        String json = "{\"models\": [{\"pattern\": \"m\\u0041*\", \"provider\": \"openai\", \"input\": 1.50,"
                + " \"cached_input\": 0, \"cache_write\": 3, \"output\": 2, \"reasoning\": 4.25, \"note\": \"x\"},"
                + " {\"pattern\": \"n\", \"provider\": null, \"input\": 12345678901234567890, \"output\": 1e-3,"
                + " \"cached_input\": null, \"note\": null}]}";

        PriceFileReader.Contents c = PriceFileReader.read(SOURCE, json.getBytes(StandardCharsets.UTF_8), false);

        assertEquals(null, c.date());
        assertEquals(List.of(new ModelPrice("mA*", "openai", 1.5, 0.0, 3.0, 2.0, 4.25),
                new ModelPrice("n", null, 12345678901234567890.0, null, null, 0.001, null)), c.models());
    }

    /** Malformed JSON: the message carries the tree reader's own line, column and first line of its message. */
    @ParameterizedTest
    @ValueSource(strings = {
            "{\"models\": [",
            "prices = gpt-4o:2.5",
            "{\"models\": []} xyz",
            "{\"models\": []} ]",
            "{\"models\": [{\"pattern\": \"m\", \"input\": 1, \"output\": 1}]} // a comment",
            "{\"models\": [{\"pattern\": \"m\", \"input\": NaN, \"output\": 1}]}",
            "{\"models\": [{\"pattern\": \"m\", \"input\": 01, \"output\": 1}]}",
            "{models: []}",
            "{\"models\": [{\"pattern\": \"m\", \"input\": 1, \"output\": 1},]}",
            "{\n  \"models\": [\n    {\"pattern\": \"gpt-4o\", \"input\": 2.5, \"output\": 10,}\n  ]\n}",
            "{\"models\": [{\"pattern\": \"m\", \"input\": 1, \"output\": 1}]",
    })
    void aSyntaxErrorIsReportedWhereATreeReaderFindsIt(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        JsonProcessingException oracle = assertThrows(JsonProcessingException.class, () -> TREE.readTree(bytes));
        // the file is named once, at the start: the parser's note that it may not name its source is dropped
        String detail = oracle.getOriginalMessage().lines().findFirst().orElseThrow()
                .replace("[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line:", "[line:");
        String expected = SOURCE + ": not valid JSON at line " + oracle.getLocation().getLineNr() + ", column "
                + oracle.getLocation().getColumnNr() + ": " + detail + "; " + TABLE_FORM;

        PricingException e = assertThrows(PricingException.class, () -> PriceFileReader.read(SOURCE, bytes, false));

        assertEquals(expected, e.getMessage());
    }

    @Test
    void aDuplicateFieldIsReportedWhereATreeReaderWithDuplicateDetectionFindsIt() {
        byte[] bytes = "{\"models\": [{\"pattern\": \"m\", \"input\": 1, \"input\": 2, \"output\": 1}]}"
                .getBytes(StandardCharsets.UTF_8);
        ObjectMapper strict = TREE.copy().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        JsonProcessingException oracle = assertThrows(JsonProcessingException.class, () -> strict.readTree(bytes));
        assertEquals(1, oracle.getLocation().getLineNr());

        PricingException e = assertThrows(PricingException.class, () -> PriceFileReader.read(SOURCE, bytes, false));

        assertEquals(SOURCE + ": not valid JSON at line 1, column " + oracle.getLocation().getColumnNr()
                + ": Duplicate field 'input'; give each field once", e.getMessage());
    }

    /**
     * Wrong values: the whole message, with the line and column of the value worked out by hand (columns count
     * from 1; the column is the value's first character).
     */
    static Stream<Arguments> wrongValues() {
        String entry = "expected a model entry object such as {\"pattern\": \"gpt-4o-mini*\", \"input\": 0.15,"
                + " \"cached_input\": 0.075, \"output\": 0.6}";
        String price = "a price in USD per 1M tokens, a number >= 0";
        return Stream.of(
                arguments("{'models': []} {}", "not valid JSON at line 1, column 16: there is more content after the"
                        + " end of the JSON object; expected nothing after its closing '}'"),
                arguments("{'models': []}\n\n  [1]", "not valid JSON at line 3, column 3: there is more content after"
                        + " the end of the JSON object; expected nothing after its closing '}'"),
                arguments("", "the file is empty; " + TABLE_FORM),
                arguments("  \n ", "the file is empty; " + TABLE_FORM),
                arguments("[]", "line 1, column 1 (top level): " + TABLE_FORM + ", got an array"),
                arguments("42", "line 1, column 1 (top level): " + TABLE_FORM + ", got 42"),
                arguments("{'date': '2026-01-01'}", "line 1, column 1 (top level): missing field \"models\""
                        + " (an array of model entries)"),
                arguments("{'models': null}", "line 1, column 12 (models): expected an array of model entries,"
                        + " got null"),
                arguments("{'models': [1.5]}", "line 1, column 13 (models[0]): " + entry + ", got 1.5"),
                arguments("{'models': [{'pattern': 'm', 'input': 1}]}", "line 1, column 13 (models[0]): missing field"
                        + " \"output\" (" + price + ")"),
                arguments("{'models': [{'pattern': null, 'input': 1, 'output': 1}]}", "line 1, column 25"
                        + " (models[0].pattern): expected a model name such as \"gpt-4o\" or a prefix ending in '*'"
                        + " such as \"gpt-4o-mini*\", got null"),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': -2}]}", "line 1, column 52"
                        + " (models[0].output): a price cannot be negative; expected " + price + ", got -2"),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': -1e-7}]}", "line 1, column 52"
                        + " (models[0].output): a price cannot be negative; expected " + price + ", got -1.0E-7"),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': -123456789012345678901234567890}]}",
                        "line 1, column 52 (models[0].output): a price cannot be negative; expected " + price
                                + ", got -123456789012345678901234567890"),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': -1e999}]}", "line 1, column 52"
                        + " (models[0].output): expected " + price + ", got a number too large to be a price"),
                arguments("{'models': [{'pattern': 'm', 'input': 'abc', 'output': 1}]}", "line 1, column 39"
                        + " (models[0].input): expected " + price + ", got \"abc\""),
                arguments("{'models': [{'pattern': 'm', 'input': 1, 'output': 1, 'cached_input': {}}]}",
                        "line 1, column 71 (models[0].cached_input): expected " + price + ", got an object"),
                arguments("{'models': [{'pattern': 'a b', 'input': 1, 'output': 1}]}", "line 1, column 25"
                        + " (models[0].pattern): pattern \"a b\": must not contain white space; write the model name"
                        + " as the provider reports it, e.g. \"gpt-4o-mini\""),
                arguments("{'models': [], 'extra': {'a': 1}}", "line 1, column 25 (extra): unknown field \"extra\";"
                        + " expected one of: date, currency, unit, models"),
                arguments("{'models': [{'pattern': 'm', 'provider': 7, 'input': 1, 'output': 1}]}", "line 1,"
                        + " column 42 (models[0].provider): expected a GenAI provider name in lower case such as"
                        + " \"openai\", \"anthropic\", \"aws.bedrock\", \"gcp.gemini\" or \"azure.ai.openai\" (leave it"
                        + " out to match any provider), got 7"),
                arguments("{'currency': 5, 'models': []}", "line 1, column 14 (currency): expected \"USD\" (prices are"
                        + " in US dollars), got 5"),
                arguments("{'date': 20260101, 'models': []}", "line 1, column 10 (date): expected the date the prices"
                        + " were checked, as YYYY-MM-DD, e.g. \"2026-11-25\", got 20260101"),
                arguments("{'date': '" + "x".repeat(80) + "', 'models': []}", "line 1, column 10 (date): expected the"
                        + " date the prices were checked, as YYYY-MM-DD, e.g. \"2026-11-25\", got \"" + "x".repeat(60)
                        + "...\""),
                arguments("{'models': [{'pattern': 'm', 'provider': 'openai', 'input': 1, 'output': 1},"
                        + " {'pattern': 'M', 'provider': 'openai', 'input': 2, 'output': 2}]}", "line 1, column 78"
                        + " (models[1]): duplicate entry: pattern \"M\" for provider \"openai\" is already given at"
                        + " models[0]; give each pattern and provider once"),
                // every value is checked in the order of the fields' declaration, whatever their order in the file
                arguments("{'models': 5, 'date': 'bad'}", "line 1, column 23 (date): expected the date the prices were"
                        + " checked, as YYYY-MM-DD, e.g. \"2026-11-25\", got \"bad\""),
                arguments("{'models': [{'pattern': 'bad*one', 'input': -1, 'output': 1, 'zzz': 1}]}", "line 1,"
                        + " column 69 (models[0].zzz): unknown field \"zzz\"; expected one of: pattern, provider, input,"
                        + " cached_input, cache_write, output, reasoning, note"),
                arguments("{\n  'models': [\n    {'pattern': 'gpt-4o', 'input': 2.5, 'output': 10},\n"
                        + "    {'pattern': 'gpt-4o-mini*', 'input': 0.15,\n     'output': -0.6}\n  ]\n}",
                        "line 5, column 16 (models[1].output): a price cannot be negative; expected " + price
                                + ", got -0.6"));
    }

    @ParameterizedTest
    @MethodSource("wrongValues")
    void aWrongValueIsReportedWholeWithItsPlace(String json, String message) {
        byte[] bytes = json.replace('\'', '"').getBytes(StandardCharsets.UTF_8);

        PricingException e = assertThrows(PricingException.class, () -> PriceFileReader.read(SOURCE, bytes, false));

        assertEquals(SOURCE + ": " + message, e.getMessage());
    }

    @Test
    void aCompleteTableMustGiveItsDateCurrencyUnitAndAnEntry() {
        String noUnit = "{'date': '2026-11-25', 'currency': 'USD', 'models': [{'pattern': 'm', 'input': 1, 'output': 1}]}";
        String noEntry = "{'date': '2026-11-25', 'currency': 'USD', 'unit': 'per_million_tokens', 'models': []}";

        PricingException unit = assertThrows(PricingException.class, () -> PriceFileReader.read("built-in",
                noUnit.replace('\'', '"').getBytes(StandardCharsets.UTF_8), true));
        PricingException entry = assertThrows(PricingException.class, () -> PriceFileReader.read("built-in",
                noEntry.replace('\'', '"').getBytes(StandardCharsets.UTF_8), true));

        assertEquals("built-in: line 1, column 1 (top level): missing field \"unit\" (\"per_million_tokens\""
                + " (prices are per 1M tokens))", unit.getMessage());
        assertEquals("built-in: line 1, column 83 (models): expected at least one model entry, got an empty array",
                entry.getMessage());
    }
}
