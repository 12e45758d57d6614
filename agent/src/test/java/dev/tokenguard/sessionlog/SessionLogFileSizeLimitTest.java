package dev.tokenguard.sessionlog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The session log past a file-size limit ({@code ulimit -f}, the stand-in for a full file system that needs no
 * root): the kernel takes a line's first bytes up to the limit and refuses the rest. The file must keep only whole
 * lines, the writer must report once and the process must go on.
 */
class SessionLogFileSizeLimitTest {

    /** The limit in {@code ulimit -f} blocks of 1024 bytes: room for a few lines, not for all of them. */
    static final int LIMIT_BLOCKS = 4;
    static final int CALLS = 20;

    @TempDir
    Path tmp;

    record Run(int exitCode, List<String> stdout, List<String> stderr) {
    }

    Run write(Path dir, String ulimit) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of("bash", "-c",
                ulimit + " exec \"$0\" -XX:-UsePerfData -cp \"$1\" " + FileSizeLimitWriter.class.getName()
                        + " \"$2\" " + CALLS,
                java, System.getProperty("java.class.path"), dir.toString()));
        Path out = tmp.resolve("out-" + dir.getFileName());
        Path err = tmp.resolve("err-" + dir.getFileName());
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the writer JVM did not end");
        return new Run(p.exitValue(), Files.readAllLines(out, StandardCharsets.UTF_8),
                Files.readAllLines(err, StandardCharsets.UTF_8));
    }

    @Test
    void aLineRefusedPastTheFileSizeLimitLeavesNoPartOfItAndIsReportedOnce() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash for ulimit");
        Path free = tmp.resolve("free");
        Path limited = tmp.resolve("limited");
        Run unlimited = write(free, "");
        Run capped = write(limited, "ulimit -f " + LIMIT_BLOCKS + ";");

        String name = SessionLogWriter.fileNameFor("limited");
        byte[] all = Files.readAllBytes(free.resolve(name));
        assertEquals(List.of("DONE"), unlimited.stdout(), unlimited::toString);
        assertEquals(List.of(), unlimited.stderr(), unlimited::toString);
        List<String> allLines = Files.readAllLines(free.resolve(name), StandardCharsets.UTF_8);
        assertEquals(CALLS + 2, allLines.size());
        assertTrue(all.length > LIMIT_BLOCKS * 1024L, "the whole session must not fit under the limit: " + all.length);

        assertEquals(0, capped.exitCode(), capped::toString);
        assertEquals(List.of("DONE"), capped.stdout(), capped::toString);
        assertEquals(1, capped.stderr().size(), capped::toString);
        String report = capped.stderr().get(0);
        assertTrue(report.startsWith("TokenGuard: session log: cannot write to " + limited.resolve(name).toAbsolutePath()
                + " (java.io.IOException: File too large); lines are dropped until writing succeeds again"), report);

        byte[] kept = Files.readAllBytes(limited.resolve(name));
        assertTrue(kept.length <= LIMIT_BLOCKS * 1024L, "size " + kept.length);
        assertEquals('\n', kept[kept.length - 1], "the file ends with a whole line");
        // every line kept is, byte for byte, the line of the same seq written without a limit
        List<String> keptLines = Files.readAllLines(limited.resolve(name), StandardCharsets.UTF_8);
        assertTrue(keptLines.size() >= 2 && keptLines.size() < allLines.size(), keptLines::toString);
        for (String line : keptLines) {
            long seq = SessionLogWriterTest.MAPPER.readTree(line).get("seq").asLong();
            assertEquals(allLines.get((int) seq - 1), line, "line of seq " + seq);
        }
        // the first lines are the session's first lines, in order, with no gap until the first refused one
        for (int i = 0; i < keptLines.size() - 1; i++) {
            assertEquals(allLines.get(i), keptLines.get(i));
        }
    }
}
