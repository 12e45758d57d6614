package dev.tokenguard.agent;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code status}, {@code set} and {@code attach} against a process that is gone: one line, exit code 1. */
class ControlCommandTest {

    /** The id of a process that has just ended (a JVM's, so nothing about the platform's tools is assumed). */
    static String endedPid() throws Exception {
        Process p = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-version")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "java -version did not end");
        return String.valueOf(p.pid());
    }

    @Test
    void aProcessThatIsGoneGetsOneLine() throws Exception {
        String pid = endedPid();
        String expected = "TokenGuard: no process " + pid + " is running; find the JVM's process id with: java -jar "
                + "tokenguard-agent.jar list\n";
        for (String command : List.of("status", "set", "attach")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
            PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
            int status = switch (command) {
                case "status" -> ControlCommand.status(pid, o, e);
                case "set" -> ControlCommand.set(pid, List.of("budget.max-tokens=200k"), o, e);
                default -> AttachCommand.run(pid, null, o, e);
            };
            assertEquals(1, status, command);
            assertEquals("", out.toString(StandardCharsets.UTF_8), command);
            assertEquals(expected, err.toString(StandardCharsets.UTF_8), command);
        }
    }

    @Test
    void aPidThatIsNoNumberOrTooLongIsRefusedWithOneLine() {
        for (String pid : List.of("12ab", "", "1234567890123456789012")) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = ControlCommand.status(pid, new PrintStream(new ByteArrayOutputStream(), true,
                    StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(2, status, pid);
            assertEquals("TokenGuard: expected the process id of a running JVM, a whole number; got '" + pid + "'\n",
                    err.toString(StandardCharsets.UTF_8));
        }
    }
}
