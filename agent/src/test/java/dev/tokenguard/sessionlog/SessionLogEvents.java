package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads back the session-log files of a directory, strictly: every line must be one JSON object. */
public final class SessionLogEvents {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SessionLogEvents() {
    }

    /** The events named {@code event} of every file in {@code dir}, file by file, in line order. */
    public static List<JsonNode> of(Path dir, String event) throws IOException {
        return all(dir).stream().filter(node -> node.get("event").asText().equals(event)).toList();
    }

    /** Every event of every file in {@code dir}, file by file, in line order. */
    public static List<JsonNode> all(Path dir) throws IOException {
        List<JsonNode> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                for (String line : Files.readAllLines(f)) {
                    all.add(JSON.readTree(line));
                }
            }
        }
        return all;
    }
}
