package dev.tokenguard.it;

import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The session log cannot be written: its directory is a regular file, a directory no one may write to, or the disk
 * is full (a file-size limit, {@code ulimit -f}, stands in for it without root). The app must print exactly what it
 * prints when the log can be written (the budget is still enforced, in memory), and TokenGuard adds one line.
 */
class SessionLogFaultsIT {
    static final String APP = OpenAiAgentIT.APP;
    static final String BUDGET = "budget.max-tokens=1200,budget.scope=global";
    /** The file-size limit in KiB: a few session-log lines fit, not all of them. */
    static final long LIMIT_KIB = 4;

    static FakeOpenAiServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    /** Runs the scenario against a server started afresh: its answers depend on its request sequence. */
    ForkedJvm.Result run(String name, String agentArgs) throws Exception {
        Path dir = Files.createDirectories(work.resolve(name));
        server.reset();
        return ForkedJvm.run(dir, agentArgs, List.of("-XX:-UsePerfData"), Map.of(), APP, "sync", server.baseUrl(), "200");
    }

    /** The agent's lines besides its start-up lines; the start-up lines must all be there. */
    static List<String> extraAgentLines(ForkedJvm.Result r) {
        List<String> extra = new ArrayList<>(r.agentLines());
        for (String expected : OpenAiAgentIT.EXPECTED_AGENT_LINES) {
            assertTrue(extra.remove(expected), () -> "missing " + expected + " in " + r);
        }
        return extra;
    }

    @Test
    void anUnwritableSessionLogChangesNothingForTheAppAndIsReportedInOneLine() throws Exception {
        ForkedJvm.Result without = run("without-agent", null);
        ForkedJvm.Result healthy = run("healthy", BUDGET);

        Path blocked = Files.createDirectories(work.resolve("dir-is-a-file"));
        Files.writeString(blocked.resolve("sessions"), "a regular file where the directory should be");
        server.reset();
        ForkedJvm.Result dirIsAFile = ForkedJvm.run(blocked, BUDGET + ",session-log.dir=sessions",
                List.of("-XX:-UsePerfData"), Map.of(), APP, "sync", server.baseUrl(), "200");
        // even root may not create files in a process's /proc directory
        ForkedJvm.Result readOnly = run("read-only", BUDGET + ",session-log.dir=/proc/self");
        Path full = Files.createDirectories(work.resolve("disk-full"));
        server.reset();
        ForkedJvm.Result diskFull = ForkedJvm.runUnderFileSizeLimit(full, BUDGET, LIMIT_KIB, APP, "sync",
                server.baseUrl(), "200");

        // without the agent every call is served; with it, the budget refuses the calls after it is used up
        assertEquals(0, without.exitCode(), without::toString);
        assertEquals(200, without.lines("OK ").size(), without::toString);
        assertEquals(List.of(), without.agentLines());
        assertEquals(0, healthy.exitCode(), healthy::toString);
        assertEquals(List.of(), extraAgentLines(healthy), healthy::toString);
        List<String> served = healthy.lines("OK ");
        assertTrue(served.size() >= 2 && served.size() < 200, healthy::toString);
        assertEquals(without.stdout().subList(0, served.size()), served, "calls before the refusal as without agent");
        assertEquals(3, healthy.lines("REFUSED ").size(), healthy::toString);

        List<ForkedJvm.Result> faults = List.of(dirIsAFile, readOnly, diskFull);
        List<String> expectedReports = List.of(
                "TokenGuard: session log: cannot create the directory " + blocked.resolve("sessions"),
                "TokenGuard: session log: cannot open /proc/self/",
                "TokenGuard: session log: cannot write to " + full.resolve("tokenguard-sessions"));
        assertEquals(3, faults.size());
        for (int i = 0; i < faults.size(); i++) {
            ForkedJvm.Result r = faults.get(i);
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals(healthy.stdout(), r.stdout(), "the app sees what it sees with a healthy log: " + r);
            List<String> extra = extraAgentLines(r);
            assertEquals(1, extra.size(), r::toString);
            String line = extra.get(0).replaceFirst("^\\[tokenguard\\] ", "");
            assertTrue(line.startsWith(expectedReports.get(i)), line);
        }
        assertTrue(reportsFileTooLarge(extraAgentLines(diskFull).get(0)), diskFull::toString);

        // past the limit the log keeps whole lines only
        Path logDir = full.resolve("tokenguard-sessions");
        List<Path> files;
        try (Stream<Path> list = Files.list(logDir)) {
            files = list.toList();
        }
        assertEquals(1, files.size(), files::toString);
        byte[] bytes = Files.readAllBytes(files.get(0));
        assertTrue(bytes.length > 0 && bytes.length <= LIMIT_KIB * 1024, "size " + bytes.length);
        assertEquals('\n', bytes[bytes.length - 1], new String(bytes, StandardCharsets.UTF_8));
        SessionLogs kept = SessionLogs.read(logDir); // every line parses
        assertTrue(kept.events.size() >= 2, () -> kept.events.toString());
        SessionLogs healthyLog = SessionLogs.read(work.resolve("healthy").resolve("tokenguard-sessions"));
        assertTrue(kept.events.size() < healthyLog.events.size(), "the limit cut the log short");
    }

    static boolean reportsFileTooLarge(String line) {
        return line.contains("(java.io.IOException: File too large); lines are dropped until writing succeeds again");
    }
}
