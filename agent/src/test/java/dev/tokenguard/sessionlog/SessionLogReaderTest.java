package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionLogReaderTest {

    @TempDir
    Path tmp;

    @Test
    void truncatedLastLineIsSkippedAndCounted() throws IOException {
        Session s = new Session("crash", "global", "main");
        try (SessionLogWriter w = new SessionLogWriter(tmp, "v", 1, Clock.fixed(SessionLogWriterTest.NOW, ZoneOffset.UTC),
                line -> { })) {
            w.sessionStart(s);
            w.budgetWarning(s, "default", 0.75, 75, 100);
        }
        Path file = tmp.resolve(SessionLogWriter.fileNameFor("crash"));
        Files.writeString(file, "{\"ts\":\"2026-11-25T18:20:00.123Z\",\"session\":\"crash\",\"seq\":3,\"ev",
                StandardOpenOption.APPEND);

        SessionLogReader.Result result = SessionLogReader.read(file);
        assertEquals(1, result.unreadableLines());
        assertEquals(List.of("session_start", "budget_warning"),
                result.events().stream().map(n -> n.get("event").asText()).toList());
        assertTrue(result.fileErrors().isEmpty());
    }

    @Test
    void garbageLinesAreSkippedAndCountedBlankLinesIgnored() throws IOException {
        Path file = tmp.resolve("mixed.jsonl");
        Files.write(file, List.of(
                "{\"event\":\"session_start\",\"seq\":1}",
                "not json at all",
                "",
                "[1,2,3]",
                "42",
                "{\"event\":\"llm_call\",\"seq\":2} trailing",
                "{\"event\":\"llm_call\",\"seq\":2}{\"event\":\"llm_call\",\"seq\":3}",
                "   ",
                "{\"event\":\"llm_call\",\"seq\":4}"), StandardCharsets.UTF_8);
        Files.write(file, new byte[] {(byte) 0xC3, (byte) 0x28, '\n', '{', '"', 'a', '"', ':', (byte) 0xFF, '}', '\n'},
                StandardOpenOption.APPEND);

        SessionLogReader.Result result = SessionLogReader.read(file);
        assertEquals(List.of(1L, 4L), result.events().stream().map(n -> n.get("seq").asLong()).toList());
        assertEquals(7, result.unreadableLines());
    }

    @Test
    void readDirReadsOnlyJsonlFilesInNameOrder() throws IOException {
        Files.writeString(tmp.resolve("b.jsonl"), "{\"session\":\"b\"}\n");
        Files.writeString(tmp.resolve("a.jsonl"), "{\"session\":\"a\"}\n{\"session\":\"a\"}\nbroken");
        Files.writeString(tmp.resolve("notes.txt"), "{\"session\":\"txt\"}\n");
        Files.createDirectory(tmp.resolve("dir.jsonl"));

        SessionLogReader.Result result = SessionLogReader.readDir(tmp);
        assertEquals(List.of("a", "a", "b"), result.events().stream().map(n -> n.get("session").asText()).toList());
        assertEquals(1, result.unreadableLines());
        assertTrue(result.fileErrors().isEmpty(), result.fileErrors()::toString);

        List<JsonNode> streamed = new java.util.ArrayList<>();
        SessionLogReader.Scan scan = SessionLogReader.scanDir(tmp, streamed::add);
        assertEquals(2, scan.files());
        assertEquals(3, scan.events());
        assertEquals(3, streamed.size());
    }

    @Test
    void missingFileOrDirIsAFileErrorNotAnException() {
        Path missing = tmp.resolve("nope");
        SessionLogReader.Result dir = SessionLogReader.readDir(missing);
        assertEquals(1, dir.fileErrors().size());
        assertTrue(dir.fileErrors().get(0).contains(missing.toString()), dir.fileErrors().get(0));
        SessionLogReader.Result file = SessionLogReader.read(missing.resolve("x.jsonl"));
        assertEquals(1, file.fileErrors().size());
        assertTrue(file.events().isEmpty());
    }
}
