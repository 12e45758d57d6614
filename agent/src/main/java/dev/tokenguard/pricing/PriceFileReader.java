package dev.tokenguard.pricing;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads and checks one price table in JSON:
 *
 * <pre>{@code
 * {"date": "2026-11-25", "currency": "USD", "unit": "per_million_tokens",
 *  "models": [{"pattern": "gpt-4o", "provider": "openai", "input": 2.5, "cached_input": 1.25,
 *              "cache_write": null, "output": 10, "reasoning": null, "note": "..."}]}
 * }</pre>
 *
 * <p>Jackson parses (with duplicate keys and trailing content rejected); the checks here give each problem one
 * line that names the source, the line and column, the JSON path, what was found and what was expected. Jackson's
 * tree keeps no locations, so a problem found in the tree is located by a second streaming pass to its path.
 */
final class PriceFileReader {
    static final String CURRENCY = "USD";
    static final String UNIT = "per_million_tokens";

    private static final List<String> TOP_FIELDS = List.of("date", "currency", "unit", "models");
    private static final List<String> ENTRY_FIELDS =
            List.of("pattern", "provider", "input", "cached_input", "cache_write", "output", "reasoning", "note");
    private static final Pattern PROVIDER = Pattern.compile("[a-z0-9][a-z0-9._-]*");
    private static final String TABLE_FORM = "a JSON object {\"date\": \"YYYY-MM-DD\", \"currency\": \"USD\","
            + " \"unit\": \"per_million_tokens\", \"models\": [...]}";
    private static final String ENTRY_FORM = "a model entry object such as {\"pattern\": \"gpt-4o-mini*\","
            + " \"input\": 0.15, \"cached_input\": 0.075, \"output\": 0.6}";
    private static final String PRICE_FORM = "a price in USD per 1M tokens, a number >= 0";
    private static final int MAX_SHOWN = 60;

    private static final ObjectMapper JSON = JsonMapper.builder(
                    JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** What a price file holds: its date (null when a partial file gives none) and its entries, in file order. */
    record Contents(String date, List<ModelPrice> models) {
    }

    private final String source;
    private final byte[] json;
    private final boolean complete;

    private PriceFileReader(String source, byte[] json, boolean complete) {
        this.source = source;
        this.json = json;
        this.complete = complete;
    }

    /**
     * Reads {@code json}. {@code source} starts every error message (e.g. {@code tokenguard.pricing.file=/x.json}).
     * A {@code complete} table (the built-in one) must give date, currency and unit; a partial one (an override
     * file) may leave them out, but what it gives must be right.
     */
    static Contents read(String source, byte[] json, boolean complete) throws PricingException {
        return new PriceFileReader(source, json, complete).read();
    }

    private Contents read() throws PricingException {
        JsonNode root = parse();
        List<Object> top = List.of();
        if (root == null || root.isMissingNode()) {
            throw new PricingException(source + ": the file is empty; expected " + TABLE_FORM);
        }
        if (!root.isObject()) {
            throw problem(top, "expected " + TABLE_FORM + ", got " + describe(root));
        }
        checkFields(root, top, TOP_FIELDS);

        String date = text(root, top, "date", "the date the prices were checked, as YYYY-MM-DD, e.g. \"2026-11-25\"");
        if (date != null) {
            try {
                LocalDate.parse(date);
            } catch (DateTimeParseException e) {
                throw problem(List.of("date"), "expected the date the prices were checked, as YYYY-MM-DD,"
                        + " e.g. \"2026-11-25\", got " + describe(root.get("date")));
            }
        }
        String currency = text(root, top, "currency", "\"" + CURRENCY + "\" (prices are in US dollars)");
        if (currency != null && !currency.equals(CURRENCY)) {
            throw problem(List.of("currency"), "expected \"" + CURRENCY + "\" (prices are in US dollars), got "
                    + describe(root.get("currency")));
        }
        String unit = text(root, top, "unit", "\"" + UNIT + "\" (prices are per 1M tokens)");
        if (unit != null && !unit.equals(UNIT)) {
            throw problem(List.of("unit"), "expected \"" + UNIT + "\" (prices are per 1M tokens), got "
                    + describe(root.get("unit")));
        }

        JsonNode models = root.get("models");
        if (models == null) {
            throw problem(top, "missing field \"models\" (an array of model entries)");
        }
        if (!models.isArray()) {
            throw problem(List.of("models"), "expected an array of model entries, got " + describe(models));
        }
        if (complete && models.isEmpty()) {
            throw problem(List.of("models"), "expected at least one model entry, got an empty array");
        }
        List<ModelPrice> entries = new ArrayList<>(models.size());
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < models.size(); i++) {
            List<Object> path = List.of("models", i);
            ModelPrice entry = entry(models.get(i), path);
            Integer earlier = seen.putIfAbsent(PriceTable.key(entry), i);
            if (earlier != null) {
                throw problem(path, "duplicate entry: pattern \"" + entry.pattern() + "\" for "
                        + (entry.provider() == null ? "any provider" : "provider \"" + entry.provider() + "\"")
                        + " is already given at models[" + earlier + "]; give each pattern and provider once");
            }
            entries.add(entry);
        }
        return new Contents(date, List.copyOf(entries));
    }

    private JsonNode parse() throws PricingException {
        try {
            return JSON.readTree(json);
        } catch (MismatchedInputException e) {
            throw new PricingException(source + ": not valid JSON at " + where(e.getLocation())
                    + ": there is more content after the end of the JSON object; expected nothing after its closing '}'",
                    e);
        } catch (JsonProcessingException e) {
            String detail = firstLine(e.getOriginalMessage());
            throw new PricingException(source + ": not valid JSON at " + where(e.getLocation()) + ": " + detail
                    + (detail.startsWith("Duplicate field") ? "; give each field once" : "; expected " + TABLE_FORM),
                    e);
        } catch (IOException e) {
            throw new PricingException(source + ": cannot parse: " + e + "; expected " + TABLE_FORM, e);
        }
    }

    private ModelPrice entry(JsonNode node, List<Object> path) throws PricingException {
        if (!node.isObject()) {
            throw problem(path, "expected " + ENTRY_FORM + ", got " + describe(node));
        }
        checkFields(node, path, ENTRY_FIELDS);

        JsonNode patternNode = node.get("pattern");
        if (patternNode == null) {
            throw problem(path, "missing field \"pattern\" (a model name such as \"gpt-4o\","
                    + " or a prefix ending in '*' such as \"gpt-4o-mini*\")");
        }
        List<Object> patternPath = child(path, "pattern");
        if (!patternNode.isTextual()) {
            throw problem(patternPath, "expected a model name such as \"gpt-4o\" or a prefix ending in '*'"
                    + " such as \"gpt-4o-mini*\", got " + describe(patternNode));
        }
        String pattern = patternNode.textValue();
        String patternProblem = ModelPrice.patternProblem(pattern);
        if (patternProblem != null) {
            throw problem(patternPath, "pattern " + describe(patternNode) + ": " + patternProblem);
        }

        String provider = null;
        JsonNode providerNode = node.get("provider");
        if (providerNode != null && !providerNode.isNull()) {
            if (!providerNode.isTextual() || !PROVIDER.matcher(providerNode.textValue()).matches()) {
                throw problem(child(path, "provider"), "expected a GenAI provider name in lower case such as"
                        + " \"openai\", \"anthropic\", \"aws.bedrock\", \"gcp.gemini\" or \"azure.ai.openai\""
                        + " (leave it out to match any provider), got " + describe(providerNode));
            }
            provider = providerNode.textValue();
        }

        double input = price(node, path, "input", true);
        Double cachedInput = price(node, path, "cached_input", false);
        Double cacheWrite = price(node, path, "cache_write", false);
        double output = price(node, path, "output", true);
        Double reasoning = price(node, path, "reasoning", false);

        JsonNode note = node.get("note");
        if (note != null && !note.isNull() && !note.isTextual()) {
            throw problem(child(path, "note"), "expected a free-text note (a string), got " + describe(note));
        }
        return new ModelPrice(pattern, provider, input, cachedInput, cacheWrite, output, reasoning);
    }

    private Double price(JsonNode entry, List<Object> path, String field, boolean required)
            throws PricingException {
        JsonNode n = entry.get(field);
        if (n == null || (n.isNull() && !required)) {
            if (required) {
                throw problem(path, "missing field \"" + field + "\" (" + PRICE_FORM + ")");
            }
            return null;
        }
        if (!n.isNumber()) {
            throw problem(child(path, field), "expected " + PRICE_FORM + ", got " + describe(n));
        }
        if (!Double.isFinite(n.doubleValue())) {
            throw problem(child(path, field), "expected " + PRICE_FORM + ", got a number too large to be a price");
        }
        if (n.doubleValue() < 0) {
            throw problem(child(path, field), "a price cannot be negative; expected " + PRICE_FORM + ", got "
                    + describe(n));
        }
        return n.doubleValue();
    }

    /** A top-level text field: null when absent (an error when the table must be complete) or not text. */
    private String text(JsonNode root, List<Object> top, String field, String form) throws PricingException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (complete) {
                throw problem(top, "missing field \"" + field + "\" (" + form + ")");
            }
            return null;
        }
        if (!n.isTextual()) {
            throw problem(List.of(field), "expected " + form + ", got " + describe(n));
        }
        return n.textValue();
    }

    private void checkFields(JsonNode object, List<Object> path, List<String> known) throws PricingException {
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw problem(child(path, name), "unknown field \"" + name + "\"; expected one of: "
                        + String.join(", ", known));
            }
        }
    }

    private PricingException problem(List<Object> path, String problem) {
        return new PricingException(source + ": " + where(locate(path)) + " (" + pathText(path) + "): " + problem);
    }

    private static List<Object> child(List<Object> path, Object segment) {
        List<Object> c = new ArrayList<>(path);
        c.add(segment);
        return c;
    }

    static String pathText(List<Object> path) {
        if (path.isEmpty()) {
            return "top level";
        }
        StringBuilder sb = new StringBuilder();
        for (Object segment : path) {
            if (segment instanceof Integer index) {
                sb.append('[').append(index).append(']');
            } else {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(segment);
            }
        }
        return sb.toString();
    }

    private static String where(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "unknown line";
        }
        return "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    /** The location of the value at {@code path}, found by streaming the file again; null if not found. */
    private JsonLocation locate(List<Object> path) {
        try (JsonParser p = JSON.getFactory().createParser(json)) {
            if (p.nextToken() == null) {
                return null;
            }
            for (Object segment : path) {
                if (!step(p, segment)) {
                    return null;
                }
            }
            return p.currentTokenLocation();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Moves the parser from a container's start token to the value token of {@code segment} in it. */
    private static boolean step(JsonParser p, Object segment) throws IOException {
        if (segment instanceof String field && p.currentToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean wanted = field.equals(p.currentName());
                p.nextToken();
                if (wanted) {
                    return true;
                }
                p.skipChildren();
            }
        } else if (segment instanceof Integer index && p.currentToken() == JsonToken.START_ARRAY) {
            int i = 0;
            for (JsonToken t = p.nextToken(); t != null && t != JsonToken.END_ARRAY; t = p.nextToken(), i++) {
                if (i == index) {
                    return true;
                }
                p.skipChildren();
            }
        }
        return false;
    }

    private static String describe(JsonNode n) {
        if (n == null || n.isNull()) {
            return "null";
        }
        if (n.isTextual()) {
            String s = n.textValue();
            return "\"" + (s.length() > MAX_SHOWN ? s.substring(0, MAX_SHOWN) + "..." : s) + "\""
                    + (looksNumeric(s) ? " (a string, not a number)" : "");
        }
        if (n.isObject()) {
            return "an object";
        }
        if (n.isArray()) {
            return "an array";
        }
        return n.asText();
    }

    private static boolean looksNumeric(String s) {
        try {
            Double.parseDouble(s.trim());
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String firstLine(String message) {
        String line = message == null ? "" : message.lines().findFirst().orElse("").trim();
        // Jackson names the source it was not allowed to show; the caller names the file already
        line = line.replaceAll("\\[Source: [^\\]]*?; line:", "[line:");
        return line.isEmpty() ? "unreadable content" : line;
    }
}
