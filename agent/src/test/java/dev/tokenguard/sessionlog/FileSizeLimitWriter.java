package dev.tokenguard.sessionlog;

import dev.tokenguard.budget.Session;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * Writes one session of a fixed shape ({@code session_start}, {@code calls} x {@code llm_call}, {@code session_end})
 * with a fixed clock and pid, so that two runs write the same bytes. Every line the writer reports goes to stderr.
 * Run in a JVM of its own, under a file-size limit or without.
 *
 * <p>Arguments: {@code <dir> <calls>}.
 */
public final class FileSizeLimitWriter {

    private FileSizeLimitWriter() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int calls = Integer.parseInt(args[1]);
        Session s = new Session("limited", "global", "main");
        try (SessionLogWriter w = new SessionLogWriter(dir, "1.2.3", 4242L,
                Clock.fixed(SessionLogWriterTest.NOW, java.time.ZoneOffset.UTC), System.err::println)) {
            w.sessionStart(s);
            for (int i = 0; i < calls; i++) {
                w.llmCall(s, SessionLogWriterTest.fullCall(), List.of(), null, null, null, null);
            }
            w.sessionEnd(s, "shutdown");
        }
        System.out.println("DONE");
    }
}
