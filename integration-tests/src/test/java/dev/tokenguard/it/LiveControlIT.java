package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code list}, {@code status}, {@code set} and a second {@code attach} against one JVM running the agent from
 * start-up: the figures {@code status} prints match the fake server's ledger, a bad value is refused with the
 * configuration's one-line error and changes nothing, and a lowered limit refuses the very next call, audited as
 * {@code budget_changed}.
 */
class LiveControlIT {
    static final String APP = "dev.tokenguard.it.app.ModernJvmScenarioApp";

    @TempDir
    Path work;
    FakeOpenAiServer server;

    @BeforeEach
    void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    @Test
    void statusAndSetReadAndChangeTheBudgetsOfARunningJvm() throws Exception {
        List<String> command = List.of(ForkedJvm.JAVA, "-javaagent:" + ForkedJvm.AGENT_JAR
                        + "=budgets.team.max-tokens=90k,budgets.team.scope=global", "-Xshare:auto",
                "-XX:TieredStopAtLevel=1", "-cp", ForkedJvm.applicationClassPath(), APP, "wait-for-attach",
                server.baseUrl(), "1");
        try (PausedJvm target = PausedJvm.start(work, command)) {
            Path err = target.stderr;
            List<String> stdout = target.stdout;
            String pid = target.pid();
            assertEquals(1, server.requestCount());
            long used = server.requests().get(0).usage().totalTokens();

            ForkedJvm.Result list = cli("list");
            assertEquals(0, list.exitCode(), list::toString);
            assertTrue(list.stdout().contains(pid + " " + APP + " wait-for-attach " + server.baseUrl() + " 1"),
                    list::toString);

            ForkedJvm.Result again = cli("attach", pid);
            assertEquals(0, again.exitCode(), again::toString);
            assertEquals(1, again.stdout().size(), again::toString);
            assertTrue(again.stdout().get(0).startsWith("TokenGuard ") && again.stdout().get(0).endsWith(
                    " is already running in JVM " + pid + "; nothing loaded (change its budgets with: set " + pid
                            + " key=value)"), again::toString);

            ForkedJvm.Result status = cli("status", pid);
            assertEquals(0, status.exitCode(), status::toString);
            assertEquals(9, status.stdout().size(), status::toString);
            // the main thread's id differs between Java versions (1 on 17, 3 on 25)
            assertTrue(status.stdout().get(7).matches("  default thread:main#\\d+ " + used + " / 100000 tokens \\("
                    + java.util.regex.Pattern.quote(percent(used, 100_000)) + "\\)"), status::toString);
            List<String> others = new ArrayList<>(status.stdout());
            others.remove(7);
            assertEquals(List.of("governance: on", "SDKs governed: " + governingLines(err),
                            "calls: 1, refusals: 0, warnings: 0", "budgets:",
                    "  default (scope thread, mode enforce): max-tokens=100000; used " + used
                            + " tokens over all scopes",
                    "  team (scope global, mode enforce): max-tokens=90000; used " + used + " tokens over all scopes",
                    "top scopes:",
                    "  team global " + used + " / 90000 tokens (" + percent(used, 90_000) + ")"),
                    others, status::toString);

            ForkedJvm.Result bad = cli("set", pid, "budget.max-tokens=12 tokens");
            assertEquals(2, bad.exitCode(), bad::toString);
            assertEquals(List.of("TokenGuard: invalid value '12 tokens' for tokenguard.budget.max-tokens (from set "
                    + "command): expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M "
                    + "(k = 1,000, M = 1,000,000), or none; nothing changed"), bad.stderr(), bad::toString);
            assertEquals(List.of(), bad.stdout(), bad::toString);

            // several settings, the last one bad: none is made
            ForkedJvm.Result badLast = cli("set", pid, "budgets.team.max-tokens=50k", "mode=warn",
                    "budgets.team.window=1h");
            assertEquals(2, badLast.exitCode(), badLast::toString);
            assertEquals(1, badLast.stderr().size(), badLast::toString);
            assertTrue(badLast.stderr().get(0).startsWith("TokenGuard: 'budgets.team.window' cannot be changed while "
                    + "the agent runs") && badLast.stderr().get(0).endsWith("; nothing changed"), badLast::toString);
            assertEquals(List.of(), badLast.stdout(), badLast::toString);

            // the limit lowered to what the thread has used: its next call is refused
            ForkedJvm.Result set = cli("set", pid, "budget.max-tokens=" + used, "budgets.team.max-tokens=80k");
            assertEquals(0, set.exitCode(), set::toString);
            assertEquals(List.of("default.max-tokens: 100000 -> " + used, "team.max-tokens: 90000 -> 80000"),
                    set.stdout(), "the bad settings before changed nothing (mode still enforce): " + set);

            // a JVM without the agent (this test's own) and one line saying so
            String self = String.valueOf(ProcessHandle.current().pid());
            ForkedJvm.Result without = cli("status", self);
            assertEquals(1, without.exitCode(), without::toString);
            assertEquals(List.of("TokenGuard is not running in JVM " + self + "; load it with: java -jar "
                    + "tokenguard-agent.jar attach " + self), without.stderr(), without::toString);

            assertTrue(target.go(), "the app did not end");
            assertEquals(0, target.process.exitValue(), () -> stdout + "\n" + readQuietly(err));
            assertEquals(1, stdout.stream().filter(l -> l.startsWith("REFUSED ")).count(), stdout::toString);
            assertEquals(1, server.requestCount(), "nothing was sent after the limit was lowered");

            SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
            List<JsonNode> changes = logs.of("budget_changed");
            assertEquals(2, changes.size(), changes::toString);
            assertEquals(List.of("team", "max-tokens", "90000", "80000"), List.of(changes.get(1).get("budget").asText(),
                    changes.get(1).get("key").asText(), changes.get(1).get("old").asText(),
                    changes.get(1).get("new").asText()), changes::toString);
            JsonNode c = changes.get(0);
            assertEquals("default", c.get("budget").asText());
            assertEquals("max-tokens", c.get("key").asText());
            assertEquals("100000", c.get("old").asText());
            assertEquals(String.valueOf(used), c.get("new").asText());
            assertEquals(System.getProperty("user.name"), c.get("by").asText());
            assertEquals(1, logs.of("budget_exceeded").size());
        }
    }

    /**
     * {@code attach} into a JVM whose own settings are bad: the agent there says why on that JVM's stderr and governs
     * nothing, and {@code attach} says so in one line, exit code 1.
     */
    @Test
    void attachIntoAJvmWhoseOwnSettingsAreBadSaysItGovernsNothing() throws Exception {
        List<String> command = new ArrayList<>(List.of(ForkedJvm.JAVA, "-Dtokenguard.budget.max-tokens=lots",
                "-Xshare:auto", "-XX:TieredStopAtLevel=1"));
        if (ForkedJvm.javaFeature() >= 21) {
            command.add("-XX:+EnableDynamicAgentLoading"); // no JDK warning about the agent loaded at run time
        }
        command.addAll(List.of("-cp", ForkedJvm.applicationClassPath(), APP, "wait-for-attach", server.baseUrl(),
                "1"));
        try (PausedJvm target = PausedJvm.start(work, command)) {
            String pid = target.pid();

            ForkedJvm.Result attach = cli("attach", pid);
            assertEquals(1, attach.exitCode(), attach::toString);
            assertEquals(List.of("TokenGuard: attached to JVM " + pid + " (Java " + ForkedJvm.javaFeature() + ")"),
                    attach.stdout(), attach::toString);
            assertEquals(List.of("TokenGuard: the agent loaded into JVM " + pid + " governs nothing: that JVM's own "
                    + "settings (-Dtokenguard.*, TOKENGUARD_*, tokenguard.config.file) disable it or are invalid; its "
                    + "stderr says which"), attach.stderr(), attach::toString);

            assertTrue(target.go(), "the app did not end"); // OK ... (ungoverned)
            List<String> stderr = target.stderrLines();
            assertEquals(1, stderr.size(), stderr::toString);
            assertTrue(stderr.get(0).startsWith("TokenGuard: invalid value 'lots' for tokenguard.budget.max-tokens"),
                    stderr::toString);
            assertEquals(2, server.requestCount(), "one call before the attach and one after, ungoverned");
            assertTrue(!Files.exists(work.resolve("tokenguard-sessions")), "no session log was written");
        }
    }

    /** The SDKs the target's own start-up lines name, sorted, as {@code status} lists them. */
    private static String governingLines(Path stderr) throws java.io.IOException {
        String prefix = "[tokenguard] TokenGuard: governing ";
        List<String> sdks = Files.readAllLines(stderr, StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).sorted().toList();
        assertEquals(2, sdks.size(), "openai-java and its HTTP client: " + sdks);
        return String.join(", ", sdks);
    }

    private ForkedJvm.Result cli(String... args) throws Exception {
        return ForkedJvm.runJar(work, null, List.of(), ForkedJvm.AGENT_JAR, args);
    }

    /** The percent as worked out by hand: one decimal, rounded half up. */
    private static String percent(long used, long limit) {
        return new java.math.BigDecimal(used * 100).divide(java.math.BigDecimal.valueOf(limit), 1,
                java.math.RoundingMode.HALF_UP).toPlainString() + "%";
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
