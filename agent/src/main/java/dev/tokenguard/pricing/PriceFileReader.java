package dev.tokenguard.pricing;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonTokenId;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * <p>jackson-core's streaming parser reads the file (duplicate keys and trailing content rejected) into a small
 * tree of {@link Node}s that remember where each value starts; the checks here give each problem one line that
 * names the source, the line and column, the JSON path, what was found and what was expected.
 *
 * <p>Why not databind's {@code readTree}: the built-in table is read at start-up, and building a {@code JsonMapper}
 * loads some 300 classes, the better part of the JSON work the agent does before an application's first call.
 * The whole file is parsed before anything in it is checked, so a syntax error anywhere is reported before a
 * wrong value, as a JSON tree reader would.
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

    private static final JsonFactory JSON =
            JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** What a price file holds: its date (null when a partial file gives none) and its entries, in file order. */
    record Contents(String date, List<ModelPrice> models) {
    }

    /** The kinds of JSON value. */
    private enum Kind { OBJECT, ARRAY, STRING, NUMBER, BOOLEAN, NULL }

    /**
     * One JSON value and where it starts. {@code value} is a {@code Map<String, Node>} in file order (object), a
     * {@code List<Node>} (array), a {@code String}, a {@code Number} ({@code Integer}, {@code Long},
     * {@code BigInteger} or {@code Double}, as jackson-core reads it), a {@code Boolean}, or null.
     */
    private record Node(Kind kind, Object value, JsonLocation at) {
        boolean isTextual() {
            return kind == Kind.STRING;
        }

        boolean isNull() {
            return kind == Kind.NULL;
        }

        String text() {
            return (String) value;
        }

        double number() {
            return ((Number) value).doubleValue();
        }

        @SuppressWarnings("unchecked")
        Map<String, Node> fields() {
            return (Map<String, Node>) value;
        }

        @SuppressWarnings("unchecked")
        List<Node> elements() {
            return (List<Node>) value;
        }

        /** The value of {@code field} in an object, or null when the object has no such field. */
        Node get(String field) {
            return fields().get(field);
        }
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
        Node root = parse();
        List<Object> top = List.of();
        if (root == null) {
            throw new PricingException(source + ": the file is empty; expected " + TABLE_FORM);
        }
        if (root.kind() != Kind.OBJECT) {
            throw problem(top, root, "expected " + TABLE_FORM + ", got " + describe(root));
        }
        checkFields(root, top, TOP_FIELDS);

        String date = text(root, top, "date", "the date the prices were checked, as YYYY-MM-DD, e.g. \"2026-11-25\"");
        if (date != null) {
            try {
                LocalDate.parse(date);
            } catch (DateTimeParseException e) {
                throw problem(List.of("date"), root.get("date"), "expected the date the prices were checked,"
                        + " as YYYY-MM-DD, e.g. \"2026-11-25\", got " + describe(root.get("date")));
            }
        }
        String currency = text(root, top, "currency", "\"" + CURRENCY + "\" (prices are in US dollars)");
        if (currency != null && !currency.equals(CURRENCY)) {
            throw problem(List.of("currency"), root.get("currency"), "expected \"" + CURRENCY
                    + "\" (prices are in US dollars), got " + describe(root.get("currency")));
        }
        String unit = text(root, top, "unit", "\"" + UNIT + "\" (prices are per 1M tokens)");
        if (unit != null && !unit.equals(UNIT)) {
            throw problem(List.of("unit"), root.get("unit"), "expected \"" + UNIT + "\" (prices are per 1M tokens),"
                    + " got " + describe(root.get("unit")));
        }

        Node models = root.get("models");
        if (models == null) {
            throw problem(top, root, "missing field \"models\" (an array of model entries)");
        }
        if (models.kind() != Kind.ARRAY) {
            throw problem(List.of("models"), models, "expected an array of model entries, got " + describe(models));
        }
        List<Node> list = models.elements();
        if (complete && list.isEmpty()) {
            throw problem(List.of("models"), models, "expected at least one model entry, got an empty array");
        }
        List<ModelPrice> entries = new ArrayList<>(list.size());
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < list.size(); i++) {
            List<Object> path = List.of("models", i);
            ModelPrice entry = entry(list.get(i), path);
            Integer earlier = seen.putIfAbsent(PriceTable.key(entry), i);
            if (earlier != null) {
                throw problem(path, list.get(i), "duplicate entry: pattern \"" + entry.pattern() + "\" for "
                        + (entry.provider() == null ? "any provider" : "provider \"" + entry.provider() + "\"")
                        + " is already given at models[" + earlier + "]; give each pattern and provider once");
            }
            entries.add(entry);
        }
        return new Contents(date, List.copyOf(entries));
    }

    /** The whole file as one value, or null when it holds nothing but white space. */
    private Node parse() throws PricingException {
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() == null) {
                return null;
            }
            Node root = value(p);
            if (p.nextToken() != null) {
                throw new PricingException(source + ": not valid JSON at " + where(p.currentTokenLocation())
                        + ": there is more content after the end of the JSON object; expected nothing after its"
                        + " closing '}'");
            }
            return root;
        } catch (JsonProcessingException e) {
            String detail = firstLine(e.getOriginalMessage());
            throw new PricingException(source + ": not valid JSON at " + where(e.getLocation()) + ": " + detail
                    + (detail.startsWith("Duplicate field") ? "; give each field once" : "; expected " + TABLE_FORM),
                    e);
        } catch (IOException e) {
            throw new PricingException(source + ": cannot parse: " + e + "; expected " + TABLE_FORM, e);
        }
    }

    /** The value that starts at the parser's current token; the parser is left on its last token. */
    private static Node value(JsonParser p) throws IOException {
        JsonLocation at = p.currentTokenLocation();
        // by token id, not by a switch on the JsonToken enum: no switch-map class to load
        switch (p.currentTokenId()) {
            case JsonTokenId.ID_START_OBJECT: {
                Map<String, Node> fields = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    fields.put(name, value(p));
                }
                return new Node(Kind.OBJECT, fields, at);
            }
            case JsonTokenId.ID_START_ARRAY: {
                List<Node> elements = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    elements.add(value(p));
                }
                return new Node(Kind.ARRAY, elements, at);
            }
            case JsonTokenId.ID_STRING:
                return new Node(Kind.STRING, p.getText(), at);
            case JsonTokenId.ID_NUMBER_INT:
                return new Node(Kind.NUMBER, p.getNumberValue(), at);
            case JsonTokenId.ID_NUMBER_FLOAT:
                return new Node(Kind.NUMBER, p.getDoubleValue(), at);
            case JsonTokenId.ID_TRUE:
                return new Node(Kind.BOOLEAN, Boolean.TRUE, at);
            case JsonTokenId.ID_FALSE:
                return new Node(Kind.BOOLEAN, Boolean.FALSE, at);
            case JsonTokenId.ID_NULL:
                return new Node(Kind.NULL, null, at);
            default:
                // the parser reports any other token as a syntax error before it gets here
                throw new IOException("unexpected " + p.currentToken() + " at " + where(at));
        }
    }

    private ModelPrice entry(Node node, List<Object> path) throws PricingException {
        if (node.kind() != Kind.OBJECT) {
            throw problem(path, node, "expected " + ENTRY_FORM + ", got " + describe(node));
        }
        checkFields(node, path, ENTRY_FIELDS);

        Node patternNode = node.get("pattern");
        if (patternNode == null) {
            throw problem(path, node, "missing field \"pattern\" (a model name such as \"gpt-4o\","
                    + " or a prefix ending in '*' such as \"gpt-4o-mini*\")");
        }
        List<Object> patternPath = child(path, "pattern");
        if (!patternNode.isTextual()) {
            throw problem(patternPath, patternNode, "expected a model name such as \"gpt-4o\" or a prefix ending"
                    + " in '*' such as \"gpt-4o-mini*\", got " + describe(patternNode));
        }
        String pattern = patternNode.text();
        String patternProblem = ModelPrice.patternProblem(pattern);
        if (patternProblem != null) {
            throw problem(patternPath, patternNode, "pattern " + describe(patternNode) + ": " + patternProblem);
        }

        String provider = null;
        Node providerNode = node.get("provider");
        if (providerNode != null && !providerNode.isNull()) {
            if (!providerNode.isTextual() || !PROVIDER.matcher(providerNode.text()).matches()) {
                throw problem(child(path, "provider"), providerNode, "expected a GenAI provider name in lower case"
                        + " such as \"openai\", \"anthropic\", \"aws.bedrock\", \"gcp.gemini\" or"
                        + " \"azure.ai.openai\" (leave it out to match any provider), got " + describe(providerNode));
            }
            provider = providerNode.text();
        }

        double input = price(node, path, "input", true);
        Double cachedInput = price(node, path, "cached_input", false);
        Double cacheWrite = price(node, path, "cache_write", false);
        double output = price(node, path, "output", true);
        Double reasoning = price(node, path, "reasoning", false);

        Node note = node.get("note");
        if (note != null && !note.isNull() && !note.isTextual()) {
            throw problem(child(path, "note"), note, "expected a free-text note (a string), got " + describe(note));
        }
        return new ModelPrice(pattern, provider, input, cachedInput, cacheWrite, output, reasoning);
    }

    private Double price(Node entry, List<Object> path, String field, boolean required) throws PricingException {
        Node n = entry.get(field);
        if (n == null || (n.isNull() && !required)) {
            if (required) {
                throw problem(path, entry, "missing field \"" + field + "\" (" + PRICE_FORM + ")");
            }
            return null;
        }
        List<Object> at = child(path, field);
        if (n.kind() != Kind.NUMBER) {
            throw problem(at, n, "expected " + PRICE_FORM + ", got " + describe(n));
        }
        double price = n.number();
        if (!Double.isFinite(price)) {
            throw problem(at, n, "expected " + PRICE_FORM + ", got a number too large to be a price");
        }
        if (price < 0) {
            throw problem(at, n, "a price cannot be negative; expected " + PRICE_FORM + ", got " + describe(n));
        }
        return price;
    }

    /** A top-level text field: null when absent (an error when the table must be complete) or not text. */
    private String text(Node root, List<Object> top, String field, String form) throws PricingException {
        Node n = root.get(field);
        if (n == null || n.isNull()) {
            if (complete) {
                throw problem(top, root, "missing field \"" + field + "\" (" + form + ")");
            }
            return null;
        }
        if (!n.isTextual()) {
            throw problem(List.of(field), n, "expected " + form + ", got " + describe(n));
        }
        return n.text();
    }

    private void checkFields(Node object, List<Object> path, List<String> known) throws PricingException {
        for (Map.Entry<String, Node> field : object.fields().entrySet()) {
            String name = field.getKey();
            if (!known.contains(name)) {
                throw problem(child(path, name), field.getValue(), "unknown field \"" + name + "\"; expected one of: "
                        + String.join(", ", known));
            }
        }
    }

    /** A problem with the value {@code at}, found at {@code path}. */
    private PricingException problem(List<Object> path, Node at, String problem) {
        return new PricingException(source + ": " + where(at.at()) + " (" + pathText(path) + "): " + problem);
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

    private static String describe(Node n) {
        if (n == null || n.isNull()) {
            return "null";
        }
        if (n.isTextual()) {
            String s = n.text();
            return "\"" + (s.length() > MAX_SHOWN ? s.substring(0, MAX_SHOWN) + "..." : s) + "\""
                    + (looksNumeric(s) ? " (a string, not a number)" : "");
        }
        if (n.kind() == Kind.OBJECT) {
            return "an object";
        }
        if (n.kind() == Kind.ARRAY) {
            return "an array";
        }
        // a number as the parser read it (2, 2.5, -1.0E-7, a long integer), or true / false
        return String.valueOf(n.value());
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
