package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads JSONL session logs tolerantly: a line that is not one whole JSON object (a truncated last
 * line after a crash, garbage, a partial write) is skipped and counted, never fatal. Blank lines
 * are ignored. Invalid UTF-8 is replaced, not fatal.
 */
public final class SessionLogReader {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private SessionLogReader() {
    }

    /**
     * What was read.
     *
     * @param events          every readable line, a JSON object each, in file order (files by name)
     * @param unreadableLines lines skipped because they were not one whole JSON object
     * @param fileErrors      files (or the directory) that could not be read at all, one message each
     */
    public record Result(List<JsonNode> events, int unreadableLines, List<String> fileErrors) {
        public Result {
            events = List.copyOf(events);
            fileErrors = List.copyOf(fileErrors);
        }
    }

    /**
     * Counts of a streaming scan.
     *
     * @param files           session-log files scanned
     * @param events          readable lines handed to the sink
     * @param unreadableLines lines skipped
     * @param fileErrors      files (or the directory) that could not be read at all
     */
    public record Scan(int files, int events, int unreadableLines, List<String> fileErrors) {
        public Scan {
            fileErrors = List.copyOf(fileErrors);
        }
    }

    /** Reads one session-log file. */
    public static Result read(Path file) {
        List<JsonNode> events = new ArrayList<>();
        Scan scan = scanFiles(List.of(file), events::add);
        return new Result(events, scan.unreadableLines(), scan.fileErrors());
    }

    /** Streams every readable line of one session-log file to {@code sink}, without keeping them. */
    public static Scan scanFile(Path file, Consumer<JsonNode> sink) {
        return scanFiles(List.of(file), sink);
    }

    /** The regular {@code *.jsonl} files of a directory, in file-name order. */
    public static List<Path> files(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.jsonl")) {
            for (Path entry : entries) {
                if (Files.isRegularFile(entry)) {
                    files.add(entry);
                }
            }
        }
        files.sort(null);
        return files;
    }

    /** Reads every {@code *.jsonl} file of a directory, in file-name order. */
    public static Result readDir(Path dir) {
        List<JsonNode> events = new ArrayList<>();
        Scan scan = scanDir(dir, events::add);
        return new Result(events, scan.unreadableLines(), scan.fileErrors());
    }

    /** Streams every readable line of every {@code *.jsonl} file of a directory to {@code sink}, without keeping them. */
    public static Scan scanDir(Path dir, Consumer<JsonNode> sink) {
        List<Path> files;
        try {
            files = files(dir);
        } catch (IOException e) {
            return new Scan(0, 0, 0, List.of("cannot list session-log directory " + dir + ": " + describe(e)));
        }
        return scanFiles(files, sink);
    }

    private static Scan scanFiles(List<Path> files, Consumer<JsonNode> sink) {
        int events = 0;
        int unreadable = 0;
        int scanned = 0;
        List<String> errors = new ArrayList<>();
        for (Path file : files) {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8))) {
                scanned++;
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode node = parse(line);
                    if (node == null) {
                        unreadable++;
                    } else {
                        events++;
                        sink.accept(node);
                    }
                }
            } catch (IOException e) {
                errors.add("cannot read session-log file " + file + ": " + describe(e));
            }
        }
        return new Scan(scanned, events, unreadable, errors);
    }

    /** The line as a JSON object, or null when it is not exactly one JSON object. */
    static JsonNode parse(String line) {
        try {
            JsonNode node = MAPPER.readTree(line);
            return node != null && node.isObject() ? node : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getName() : e.getClass().getName() + ": " + e.getMessage();
    }
}
