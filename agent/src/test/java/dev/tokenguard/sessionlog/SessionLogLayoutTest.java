package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code daily} layout: naming, the roll at midnight UTC, and readers over both layouts. */
class SessionLogLayoutTest {
    @TempDir
    Path dir;

    final List<String> errors = new CopyOnWriteArrayList<>();

    SessionLogWriter daily(TestClock clock, String service) {
        return new SessionLogWriter(dir, "1.0", 42, clock, errors::add,
                new SessionLogWriter.Settings(LogLayout.DAILY, service, "p42-abc", null, -1));
    }

    static CallRecord call(long input, long output) {
        return new CallRecord("openai", "chat", "gpt-4o", "gpt-4o", "r", input, output, null, null, null,
                Instant.EPOCH, 1_000_000L, false, null, UsageSource.PROVIDER, List.of(), null, null, null);
    }

    List<String> fileNames() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void oneFilePerUtcDayAndProcessRolledAtMidnightEveryLineNamingItsSession() throws Exception {
        TestClock clock = new TestClock("2026-12-01T23:59:59.500Z");
        Session a = new Session("thread:a#1~p42-abc-1", "thread:a#1", "a");
        Session b = new Session("thread:b#2~p42-abc-2", "thread:b#2", "b");
        try (SessionLogWriter w = daily(clock, "ticket-service")) {
            w.sessionStart(a);
            w.llmCall(a, call(10, 5), List.of(), null, null, null, null);
            w.sessionStart(b);
            w.llmCall(b, call(20, 5), List.of(), null, null, null, null);
            w.sessionEnd(b, "thread_end");
            assertEquals(1, w.openFileCount(), "a session's end leaves the day's file open for the others");
            assertEquals(List.of("ticket-service.2026-12-01.p42-abc.jsonl"), fileNames());

            clock.set("2026-12-02T00:00:00.100Z");
            w.llmCall(a, call(30, 5), List.of(), null, null, null, null);
            assertEquals(1, w.openFileCount(), "the first line of the new day closed yesterday's file");
        }
        assertEquals(List.of("ticket-service.2026-12-01.p42-abc.jsonl", "ticket-service.2026-12-02.p42-abc.jsonl"),
                fileNames());
        List<JsonNode> day1 = SessionLogWriterTest.lines(dir.resolve("ticket-service.2026-12-01.p42-abc.jsonl"));
        List<JsonNode> day2 = SessionLogWriterTest.lines(dir.resolve("ticket-service.2026-12-02.p42-abc.jsonl"));
        assertEquals(5, day1.size());
        assertEquals(1, day2.size());
        assertEquals(List.of("thread:a#1~p42-abc-1", "thread:a#1~p42-abc-1", "thread:b#2~p42-abc-2",
                "thread:b#2~p42-abc-2", "thread:b#2~p42-abc-2"), day1.stream().map(n -> n.get("session").asText()).toList());
        for (JsonNode n : day1) {
            assertTrue(n.get("ts").asText().startsWith("2026-12-01T23:59:59.500"), n.toString());
        }
        JsonNode next = day2.get(0);
        assertEquals("thread:a#1~p42-abc-1", next.get("session").asText());
        assertEquals(3, next.get("seq").asLong(), "a session's seq goes on across days");
        assertEquals("2026-12-02T00:00:00.100Z", next.get("ts").asText());
        assertEquals("ticket-service", day1.get(0).get("service").asText());
        assertTrue(errors.isEmpty(), errors::toString);
    }

    @Test
    void dailyNamesParseBackAndSessionNamesNever() {
        DailyFileName name = DailyFileName.of("ticket-service", LocalDate.of(2026, 12, 1), "p4711-mivx2k9q");
        assertEquals("ticket-service.2026-12-01.p4711-mivx2k9q.jsonl", name.toString());
        assertEquals(name, DailyFileName.parse(name.toString()));
        assertEquals("billing.v2", DailyFileName.parse("billing.v2.2026-01-31.p1-a.jsonl").service());
        for (String sessionId : List.of("global~p4711-mivx2k9q-1", "mdc:tenant=x.2026-12-01.p1-a~p4711-mivx2k9q-2",
                "thread:main#1~p1-a-3")) {
            assertNull(DailyFileName.parse(SessionLogWriter.fileNameFor(sessionId)), sessionId);
        }
        String odd = DailyFileName.of("Ticket Service/EU", LocalDate.of(2026, 12, 1), "p1-a").service();
        assertTrue(odd.matches("Ticket_Service_EU-h[0-9a-f]{16}"), odd);
        assertTrue(DailyFileName.currentProcess().matches("p[0-9]+-[0-9a-z]+"), DailyFileName.currentProcess());
    }

    @Test
    void reportReadsBothLayoutsInOneDirectory() throws Exception {
        TestClock clock = new TestClock("2026-12-01T10:00:00Z");
        Session d = new Session("thread:d#1~p42-abc-1", "thread:d#1", "d");
        try (SessionLogWriter w = daily(clock, "svc")) {
            w.sessionStart(d);
            w.llmCall(d, call(100, 10), List.of(new BudgetState("default", "thread:d#1", 110, 1000)), null, null,
                    null, null);
            w.llmCall(d, call(200, 20), List.of(), null, null, null, null);
        }
        Session s = new Session("thread:s#2~p43-xyz-1", "thread:s#2", "s");
        try (SessionLogWriter w = new SessionLogWriter(dir, "1.0", 43, clock, errors::add)) {
            w.sessionStart(s);
            w.llmCall(s, call(1000, 100), List.of(), null, null, null, null);
            w.sessionEnd(s, "shutdown");
        }
        assertEquals(2, fileNames().size(), fileNames()::toString);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, UsageReport.run(dir, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)));
        String text = out.toString(StandardCharsets.UTF_8);
        // by hand: the daily file's session made 2 calls of 110 + 220 tokens, the session file's one of 1,100
        assertTrue(text.contains("2 session file(s)"), text);
        assertTrue(text.matches("(?s).*\\nthread:d#1~p42-abc-1 +2 +300 +30 +330 .*"), text);
        assertTrue(text.matches("(?s).*\\nthread:s#2~p43-xyz-1 +1 +1000 +100 +1100 .*"), text);
        assertTrue(text.matches("(?s).*\\nTOTAL +3 +1300 +130 +1430 .*"), text);
        assertTrue(errors.isEmpty(), errors::toString);
    }
}
