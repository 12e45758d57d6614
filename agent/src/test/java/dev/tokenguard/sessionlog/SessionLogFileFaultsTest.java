package dev.tokenguard.sessionlog;

import dev.tokenguard.budget.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Something else in the way of a session file: a symbolic link planted at its path (never followed), a directory
 * where the file should be, a directory no one may write to. The writer never throws, reports once, leaves what is
 * in the way as it was, and keeps writing the sessions it can.
 */
class SessionLogFileFaultsTest {

    @TempDir
    Path tmp;

    final List<String> errors = new CopyOnWriteArrayList<>();

    SessionLogWriter writer(Path dir) {
        return new SessionLogWriter(dir, "1.2.3", 4242L, Clock.fixed(SessionLogWriterTest.NOW, ZoneOffset.UTC),
                errors::add);
    }

    /** Writes a whole session: start, three calls, end. */
    static void session(SessionLogWriter w, Session s) {
        w.sessionStart(s);
        for (int i = 0; i < 3; i++) {
            w.llmCall(s, SessionLogWriterTest.fullCall(), List.of(), null, null, null, null);
        }
        w.sessionEnd(s, "thread_end");
    }

    @Test
    void aSymbolicLinkPlantedAtASessionFileIsNeverFollowed() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("logs"));
        Path target = tmp.resolve("precious.txt");
        Files.writeString(target, "not yours\n");
        Session planted = new Session("planted", "global", "main");
        Path link = Files.createSymbolicLink(dir.resolve(SessionLogWriter.fileNameFor(planted.id())), target);
        Session other = new Session("other", "global", "main");
        try (SessionLogWriter w = writer(dir)) {
            session(w, planted);
            session(w, other);
        }
        assertEquals("not yours\n", Files.readString(target));
        assertTrue(Files.isSymbolicLink(link));
        assertEquals(1, errors.size(), errors::toString);
        assertTrue(errors.get(0).startsWith("TokenGuard: session log: cannot open " + link + " for appending ("),
                errors.get(0));
        assertEquals(5, SessionLogWriterTest.lines(dir.resolve(SessionLogWriter.fileNameFor(other.id()))).size());
    }

    @Test
    void aDirectoryWhereASessionFileShouldBeIsLeftAloneAndReportedOnce() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("logs"));
        Session blocked = new Session("blocked", "global", "main");
        Path inTheWay = Files.createDirectory(dir.resolve(SessionLogWriter.fileNameFor(blocked.id())));
        Files.writeString(inTheWay.resolve("inside.txt"), "kept");
        Session other = new Session("other", "global", "main");
        try (SessionLogWriter w = writer(dir)) {
            session(w, blocked);
            session(w, other);
            session(w, new Session("blocked", "global", "main"));
        }
        assertTrue(Files.isDirectory(inTheWay));
        try (Stream<Path> inside = Files.list(inTheWay)) {
            assertEquals(List.of(inTheWay.resolve("inside.txt")), inside.toList());
        }
        assertEquals(1, errors.size(), errors::toString);
        assertTrue(errors.get(0).startsWith("TokenGuard: session log: cannot open " + inTheWay + " for appending ("),
                errors.get(0));
        assertEquals(5, SessionLogWriterTest.lines(dir.resolve(SessionLogWriter.fileNameFor(other.id()))).size());
    }

    @Test
    void aDirectoryNoOneMayWriteToIsReportedOnce() {
        // even root may not create files in a process's /proc directory, so this holds for every user
        Path readOnly = Path.of("/proc/self");
        assumeTrue(Files.isDirectory(readOnly), "needs Linux /proc");
        try (SessionLogWriter w = writer(readOnly)) {
            session(w, new Session("a", "global", "main"));
            session(w, new Session("b", "global", "main"));
        }
        assertEquals(1, errors.size(), errors::toString);
        assertTrue(errors.get(0).startsWith("TokenGuard: session log: cannot open "), errors.get(0));
        assertTrue(errors.get(0).endsWith("); lines are dropped until it can be opened"), errors.get(0));
        assertFalse(Files.exists(readOnly.resolve(SessionLogWriter.fileNameFor("a"))));
    }
}
