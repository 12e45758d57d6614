package dev.tokenguard.pricing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the agent's own price table ({@code prices.json}, in the jar) without a JSON library: the table is read on
 * every JVM's start, beside the application's own start, where jackson-core's parser alone would load some eighty
 * classes. A file the user names ({@code tokenguard.pricing.file}) is read by {@link PriceFileReader}, whose
 * messages name the line, column and JSON path of a problem; this reader only has to read a file the build checked
 * ({@code BuiltInTableTest} holds it equal to {@link PriceFileReader}'s reading of the same bytes).
 *
 * <p>Strict JSON (RFC 8259): objects, arrays, strings with every escape, numbers, {@code true}, {@code false},
 * {@code null}; anything else is an {@link IllegalArgumentException} naming the offset.
 */
final class BuiltInTable {
    private final String json;
    private int at;

    private BuiltInTable(String json) {
        this.json = json;
    }

    /** The table's date and entries, in file order. */
    static PriceFileReader.Contents read(byte[] utf8) {
        BuiltInTable reader = new BuiltInTable(new String(utf8, StandardCharsets.UTF_8));
        Object root = reader.value();
        reader.space();
        if (reader.at != reader.json.length()) {
            throw reader.error("content after the end of the table");
        }
        Map<?, ?> table = (Map<?, ?>) root;
        List<ModelPrice> models = new ArrayList<>();
        for (Object entry : (List<?>) table.get("models")) {
            Map<?, ?> m = (Map<?, ?>) entry;
            models.add(new ModelPrice((String) m.get("pattern"), (String) m.get("provider"),
                    (Double) m.get("input"), (Double) m.get("cached_input"), (Double) m.get("cache_write"),
                    (Double) m.get("output"), (Double) m.get("reasoning")));
        }
        return new PriceFileReader.Contents((String) table.get("date"), List.copyOf(models));
    }

    private Object value() {
        space();
        if (at >= json.length()) {
            throw error("a value expected");
        }
        char c = json.charAt(at);
        switch (c) {
            case '{':
                return object();
            case '[':
                return array();
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                return number();
        }
    }

    private Map<String, Object> object() {
        Map<String, Object> fields = new LinkedHashMap<>();
        at++;
        space();
        if (next('}')) {
            return fields;
        }
        do {
            space();
            if (at >= json.length() || json.charAt(at) != '"') {
                throw error("a field name expected");
            }
            String name = string();
            space();
            expect(':');
            if (fields.containsKey(name)) {
                throw error("field \"" + name + "\" given twice");
            }
            fields.put(name, value());
            space();
        } while (next(','));
        expect('}');
        return fields;
    }

    private List<Object> array() {
        List<Object> elements = new ArrayList<>();
        at++;
        space();
        if (next(']')) {
            return elements;
        }
        do {
            elements.add(value());
            space();
        } while (next(','));
        expect(']');
        return elements;
    }

    private String string() {
        at++; // the opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (at >= json.length()) {
                throw error("an unterminated string");
            }
            char c = json.charAt(at++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("a control character in a string");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (at >= json.length()) {
                throw error("an unterminated escape");
            }
            char e = json.charAt(at++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (at + 4 > json.length()) {
                        throw error("a short \\u escape");
                    }
                    try {
                        sb.append((char) Integer.parseInt(json.substring(at, at + 4), 16));
                    } catch (NumberFormatException x) {
                        throw error("a \\u escape that is not four hex digits");
                    }
                    at += 4;
                }
                default -> throw error("an unknown escape \\" + e);
            }
        }
    }

    private Double number() {
        int start = at;
        if (at < json.length() && json.charAt(at) == '-') {
            at++;
        }
        int digits = at;
        while (at < json.length() && isNumberChar(json.charAt(at))) {
            at++;
        }
        if (at == digits || !Character.isDigit(json.charAt(digits))) {
            throw error("a value expected");
        }
        try {
            return Double.valueOf(json.substring(start, at));
        } catch (NumberFormatException e) {
            throw error("a malformed number");
        }
    }

    private static boolean isNumberChar(char c) {
        return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    }

    private Object literal(String word, Object value) {
        if (!json.startsWith(word, at)) {
            throw error("a value expected");
        }
        at += word.length();
        return value;
    }

    private void space() {
        while (at < json.length()) {
            char c = json.charAt(at);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            at++;
        }
    }

    private boolean next(char c) {
        if (at < json.length() && json.charAt(at) == c) {
            at++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!next(c)) {
            throw error("'" + c + "' expected");
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("built-in price table: " + what + " at offset " + at);
    }
}
