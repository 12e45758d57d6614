package dev.tokenguard.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Reads the file named by {@code tokenguard.config.file} into flat key/value pairs. A {@code .properties} file is
 * read as UTF-8; a YAML file may nest maps ({@code tokenguard: {budget: {max-tokens: 5000}}}) or use flat dotted
 * keys, or mix both; nested maps are flattened with '.', and a list of scalars becomes a ','-separated value.
 */
final class ConfigFile {
    /** The file types a config file may have, by file-name extension. */
    enum Format {
        PROPERTIES, YAML;

        static Format of(Path p) {
            Path name = p.getFileName();
            String n = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
            if (n.endsWith(".properties")) {
                return PROPERTIES;
            }
            if (n.endsWith(".yaml") || n.endsWith(".yml")) {
                return YAML;
            }
            return null;
        }
    }

    static final String EXPECTED = "a readable .properties, .yaml or .yml file";

    private ConfigFile() {
    }

    /**
     * @param file        the file to read
     * @param namedBy     where the file name came from, for messages (e.g. "-D system property")
     * @return the entries in file order, keys exactly as written (flattened), values as text; blank or null values are left out
     */
    static Map<String, String> read(Path file, String namedBy) throws ConfigException {
        Format format = Format.of(file);
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return format == Format.PROPERTIES ? readProperties(reader) : readYaml(reader, file);
        } catch (NoSuchFileException e) {
            throw unreadable(file, namedBy, "no such file");
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ConfigException(ConfigOptions.CONFIG_FILE.key(), "cannot parse config file " + file + where + ": "
                    + problem(e.getOriginalMessage()) + "; expected YAML that maps keys to values, e.g. tokenguard: {budget: {max-tokens: 50000}}");
        } catch (IOException e) {
            throw unreadable(file, namedBy, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigOptions.CONFIG_FILE.key(), "cannot parse config file " + file + ": "
                    + e.getMessage() + "; expected key=value lines of a .properties file");
        }
    }

    /**
     * The parser's own words without the indented lines, which quote the file's content and point a caret at it
     * (the location is given separately, and the content may hold values that are not ours to print).
     */
    private static String problem(String parserMessage) {
        List<String> lines = new ArrayList<>();
        for (String line : String.valueOf(parserMessage).split("\\R")) {
            if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                lines.add(line.strip());
            }
        }
        return lines.isEmpty() ? "not valid YAML" : String.join(", ", lines);
    }

    private static ConfigException unreadable(Path file, String namedBy, String why) {
        return new ConfigException(ConfigOptions.CONFIG_FILE.key(), "cannot read config file '" + file + "' named by "
                + ConfigOptions.CONFIG_FILE.key() + " (from " + namedBy + "): " + why + "; expected " + EXPECTED);
    }

    private static Map<String, String> readProperties(Reader reader) throws IOException {
        Properties p = new Properties();
        p.load(reader);
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : new java.util.TreeSet<>(p.stringPropertyNames())) {
            String v = p.getProperty(name).trim();
            if (!v.isEmpty()) {
                out.put(name.trim(), v);
            }
        }
        return out;
    }

    private static Map<String, String> readYaml(Reader reader, Path file) throws IOException, ConfigException {
        YAMLMapper mapper = YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
        JsonNode root = mapper.readTree(reader);
        Map<String, String> out = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return out;
        }
        if (!root.isObject()) {
            throw new ConfigException(null, "cannot use config file " + file + ": its top level is a "
                    + (root.isArray() ? "list" : "plain value") + "; expected YAML that maps keys to values,"
                    + " e.g. tokenguard: {budget: {max-tokens: 50000}}");
        }
        flatten("", root, out, file);
        return out;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out, Path file) throws ConfigException {
        if (node.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                flatten(prefix.isEmpty() ? f.getKey() : prefix + "." + f.getKey(), f.getValue(), out, file);
            }
            return;
        }
        String value;
        if (node.isNull() || node.isMissingNode()) {
            return;
        } else if (node.isArray()) {
            List<String> items = new ArrayList<>();
            for (JsonNode item : node) {
                if (item.isContainerNode()) {
                    throw new ConfigException(prefix, "cannot use " + prefix + " in config file " + file
                            + ": a list item is a " + item.getNodeType().toString().toLowerCase(Locale.ROOT)
                            + "; expected a list of plain values, e.g. [0.5, 0.9], or one ','-separated value");
                }
                items.add(item.asText().trim());
            }
            value = String.join(",", items);
        } else {
            value = node.asText().trim();
        }
        if (value.isEmpty()) {
            return;
        }
        if (out.putIfAbsent(prefix, value) != null) {
            throw new ConfigException(prefix, prefix + " is set twice in config file " + file
                    + " (once nested, once as a dotted key); expected each key once");
        }
    }
}
