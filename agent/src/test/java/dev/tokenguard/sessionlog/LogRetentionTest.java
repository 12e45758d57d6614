package dev.tokenguard.sessionlog;

import dev.tokenguard.budget.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retention over crafted files and modification times: by age, by total size, never an open file. */
class LogRetentionTest {
    static final String NOW = "2026-12-01T12:00:00Z";

    @TempDir
    Path dir;

    final List<String> lines = new CopyOnWriteArrayList<>();

    Path file(String name, int bytes, Duration age) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, new byte[bytes]);
        Files.setLastModifiedTime(p, FileTime.from(Instant.parse(NOW).minus(age)));
        return p;
    }

    List<String> names() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void oldestClosedFilesGoFirstByAgeThenBySizeAndOpenOnesStay() throws Exception {
        file("a.jsonl", 100, Duration.ofDays(40));
        file("b-open.jsonl", 100, Duration.ofDays(35));
        file("c.jsonl", 300, Duration.ofDays(10));
        file("d.jsonl", 500, Duration.ofDays(1));
        file("e.jsonl", 200, Duration.ofMinutes(1));
        file("notes.txt", 5000, Duration.ofDays(400));
        Files.createDirectory(dir.resolve("old.jsonl"));
        Files.setLastModifiedTime(dir.resolve("old.jsonl"), FileTime.from(Instant.parse(NOW).minus(Duration.ofDays(90))));

        LogRetention retention = new LogRetention(dir, Duration.ofDays(30), 1000, new TestClock(NOW),
                Set.of("b-open.jsonl")::contains, lines::add);
        LogRetention.Sweep sweep = retention.sweep();

        // by hand: a is 40 days old (deleted for age); b is older than 30 days but open (kept);
        // then 100 + 300 + 500 + 200 = 1,100 bytes > 1,000: the oldest closed one, c, goes (800 left)
        assertEquals(1, sweep.deletedForAge());
        assertEquals(1, sweep.deletedForSize());
        assertEquals(400, sweep.deletedBytes());
        assertEquals(800, sweep.keptBytes());
        assertEquals(List.of("b-open.jsonl", "d.jsonl", "e.jsonl", "notes.txt", "old.jsonl"), names());
        assertEquals(1, lines.size(), lines::toString);
        assertTrue(lines.get(0).startsWith("TokenGuard: session log: retention deleted 2 file(s), 400 B, from "),
                lines.get(0));
        assertTrue(lines.get(0).contains("(1 last written more than 30d ago, 1 to stay under 1000 B)"), lines.get(0));

        assertEquals(0, retention.sweep().deleted(), "nothing more to delete");
        assertEquals(1, lines.size(), "a sweep that deletes nothing says nothing");
    }

    @Test
    void noLimitsDeleteNothing() throws Exception {
        file("a.jsonl", 100, Duration.ofDays(4000));
        LogRetention retention = new LogRetention(dir, null, -1, new TestClock(NOW), n -> false, lines::add);
        assertFalse(retention.isBounded());
        assertEquals(0, retention.sweep().deleted());
        assertEquals(List.of("a.jsonl"), names());
        assertTrue(lines.isEmpty());
    }

    @Test
    void theWritersOpenSessionFileIsSparedUntilTheSessionEnds() throws Exception {
        Path old = file("thread_old_1_p1-a-1-h0123456789abcdef.jsonl", 10, Duration.ofDays(31));
        TestClock clock = new TestClock(NOW);
        Session s = new Session("thread:w#2~p1-a-2", "thread:w#2", "w");
        try (SessionLogWriter w = new SessionLogWriter(dir, "1.0", 1, clock, lines::add,
                new SessionLogWriter.Settings(LogLayout.SESSION, "svc", "p1-a", Duration.ofDays(30), 1))) {
            w.sweepWith(Runnable::run);
            w.sessionStart(s);
            Path own = dir.resolve(SessionLogWriter.fileNameFor(s.id()));
            assertTrue(Files.size(own) > 1);

            LogRetention.Sweep sweep = w.retention().sweep();
            assertEquals(1, sweep.deletedForAge(), "the old closed file");
            assertEquals(0, sweep.deletedForSize(), "the open file is over the 1-byte bound but open");
            assertFalse(Files.exists(old));
            assertTrue(Files.exists(own));

            clock.set("2026-12-01T12:01:00.001Z"); // a minute after the last sweep: the end of a session sweeps
            w.sessionEnd(s, "thread_end");
            assertFalse(Files.exists(own), "closed now, and over the bound: the writer's own sweep deleted it");
        }
        assertEquals(2, lines.size(), lines::toString);
    }

    @Test
    void todaysDailyFileIsSparedYesterdaysIsNot() throws Exception {
        TestClock clock = new TestClock("2026-12-01T23:59:00Z");
        Session s = new Session("thread:w#2~p1-a-2", "thread:w#2", "w");
        try (SessionLogWriter w = new SessionLogWriter(dir, "1.0", 1, clock, lines::add,
                new SessionLogWriter.Settings(LogLayout.DAILY, "svc", "p1-a", null, 1))) {
            w.sweepWith(Runnable::run);
            w.sessionStart(s);
            assertEquals(0, w.retention().sweep().deleted(), "today's file is open");
            clock.set("2026-12-02T00:00:01Z");
            w.sessionEnd(s, "shutdown"); // the roll closes yesterday's file and sweeps
            assertEquals(List.of("svc.2026-12-02.p1-a.jsonl"), names());
            assertEquals(1, lines.size(), lines::toString);
            assertTrue(lines.get(0).contains("retention deleted 1 file(s)"), lines.get(0));
        }
    }
}
