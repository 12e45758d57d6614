package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reads a forked JVM's session-log directory back, strictly: every line must parse. */
final class SessionLogs {
    private static final ObjectMapper JSON = new ObjectMapper();

    final List<Path> files;
    final List<JsonNode> events;

    private SessionLogs(List<Path> files, List<JsonNode> events) {
        this.files = files;
        this.events = events;
    }

    static SessionLogs read(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        List<JsonNode> events = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> list = Files.list(dir)) {
                list.filter(p -> p.toString().endsWith(".jsonl")).sorted().forEach(files::add);
            }
        }
        for (Path file : files) {
            for (String line : Files.readAllLines(file)) {
                events.add(JSON.readTree(line));
            }
        }
        return new SessionLogs(files, events);
    }

    List<JsonNode> of(String event) {
        return events.stream().filter(e -> e.path("event").asText().equals(event)).toList();
    }

    long sum(String event, String field) {
        return of(event).stream().mapToLong(e -> e.path(field).asLong()).sum();
    }
}
