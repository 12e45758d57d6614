package dev.tokenguard.it;

import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The agent, loaded at start-up or attached to a running JVM, makes the JVM print nothing but TokenGuard's own
 * lines on the Java the forked JVMs run (17 in the build's first pass, 25 in its second where a Java 25 JDK is
 * present): no {@code sun.misc.Unsafe} or other JVM warning caused by anything the agent does.
 */
class CleanStderrIT {
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

    /** TokenGuard's own lines start with its prefix ({@code [tokenguard]}) or its name. */
    static boolean isTokenGuards(String line) {
        return line.startsWith("[tokenguard] ") || line.startsWith("TokenGuard");
    }

    static List<String> foreignLines(List<String> stderr) {
        return stderr.stream().filter(l -> !isTokenGuards(l)).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "anthropic"})
    void theSampleAppUnderTheAgentPrintsOnlyTokenGuardsLinesOnStderr(String provider) throws Exception {
        Path sampleJar = Path.of(System.getProperty("tokenguard.sample.jar")).toAbsolutePath();
        ForkedJvm.Result result = ForkedJvm.runJar(work, "budget.max-tokens=900", List.of(), sampleJar,
                "--provider", provider);

        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(), foreignLines(result.stderr()), result::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing " + provider + "-java", ForkedJvm.GOVERNING_OKHTTP),
                result.stderr(), result::toString);
        assertEquals(1, result.stdout().stream().filter(l -> l.startsWith("refused: Token budget 'default'")).count(),
                result::toString);
    }

    /**
     * {@code attach} into a JVM that allows agents loaded at run time (on Java 21 and later it is started with
     * {@code -XX:+EnableDynamicAgentLoading}, as README says): nothing but TokenGuard's lines, on either side.
     */
    @Test
    void anAttachedAgentPrintsOnlyTokenGuardsLinesOnStderr() throws Exception {
        int java = ForkedJvm.javaFeature();
        Attached run = attach(java >= 21 ? List.of("-XX:+EnableDynamicAgentLoading") : List.of());

        assertEquals(0, run.cli.exitCode(), run::toString);
        List<String> expected = new ArrayList<>(List.of("TokenGuard: attached to JVM " + run.pid + " (Java " + java
                + ") with budget.max-tokens=700"));
        expected.addAll(statusAfterAttach(run));
        assertEquals(expected, run.cli.stdout(), run::toString);
        assertEquals(List.of(), run.cli.stderr(), run::toString);
        assertEquals(0, run.target.exitCode(), run::toString);
        assertEquals(List.of(), foreignLines(run.target.stderr()), run::toString);
        assertEquals(OpenAiAgentIT.EXPECTED_AGENT_LINES.stream().sorted().toList(),
                run.target.stderr().stream().sorted().toList(), run::toString);
        assertGovernedAfterTheAttach(run);
    }

    /**
     * On Java 21 and later the JDK itself warns, by policy, when an agent is loaded into a running JVM that was not
     * started with {@code -XX:+EnableDynamicAgentLoading}; {@code attach} says so and names the flag, and those
     * JDK lines are the only foreign ones.
     */
    @Test
    void onJava21AndLaterAttachNamesTheFlagThatAllowsDynamicLoading() throws Exception {
        int java = ForkedJvm.javaFeature();
        assumeTrue(java >= 21, "the JDK warns about agents loaded at run time from Java 21 on; these JVMs run Java "
                + java);
        Attached run = attach(List.of());

        assertEquals(0, run.cli.exitCode(), run::toString);
        List<String> status = statusAfterAttach(run);
        assertEquals(2 + status.size(), run.cli.stdout().size(), run::toString);
        assertEquals(status, run.cli.stdout().subList(2, run.cli.stdout().size()), run::toString);
        assertEquals("TokenGuard: JVM " + run.pid + " runs Java " + java + ", which prints a WARNING about an agent "
                + "loaded into a running JVM (JDK policy, JEP 451); start it with -XX:+EnableDynamicAgentLoading to "
                + "allow that without the warning, or with -javaagent:tokenguard-agent.jar", run.cli.stdout().get(0));
        List<String> foreign = foreignLines(run.target.stderr());
        assertTrue(!foreign.isEmpty() && foreign.stream().allMatch(l -> l.startsWith("WARNING: "))
                && foreign.get(0).startsWith("WARNING: A Java agent has been loaded dynamically"), run::toString);
        assertEquals(0, run.target.exitCode(), run::toString);
        assertGovernedAfterTheAttach(run);
    }

    /**
     * What {@code attach} prints after loading the agent: the SDKs the app had used before (instrumented while the
     * agent loaded, so the target's own start-up lines name the same), and no call governed yet (the app waits for
     * GO).
     */
    static List<String> statusAfterAttach(Attached run) {
        String prefix = "[tokenguard] TokenGuard: governing ";
        List<String> sdks = run.target.stderr().stream().filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length())).sorted().toList();
        assertEquals(2, sdks.size(), run::toString);
        return List.of("governance: on", "SDKs governed: " + String.join(", ", sdks),
                "calls: 0, refusals: 0, warnings: 0", "budgets:",
                "  default (scope thread, mode enforce): max-tokens=700; used 0 tokens over all scopes",
                "top scopes: none yet");
    }

    /** Every call after the attach was governed: the budget of 700 tokens ended in one refusal. */
    private void assertGovernedAfterTheAttach(Attached run) throws IOException {
        List<String> ok = run.target.lines("OK ");
        assertEquals(1, run.target.lines("BEFORE ").size(), run::toString);
        assertEquals(1, run.target.lines("REFUSED ").size(), run::toString);
        assertEquals(1 + ok.size(), server.requestCount(), "nothing was sent after the refusal");
        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        assertEquals(ok.size(), logs.of("llm_call").size());
        long beforeAttach = server.requests().get(0).usage().totalTokens();
        long governed = server.totalInputTokens() + server.totalOutputTokens() - beforeAttach;
        assertEquals(governed, logs.sum("llm_call", "total_tokens"));
        assertTrue(governed >= 700 && governed - server.requests().get(server.requestCount() - 1).usage().totalTokens()
                < 700, "refused once the budget was used up: " + governed);
    }

    /** What the JVM attached to and the {@code attach} command printed. */
    record Attached(long pid, ForkedJvm.Result target, ForkedJvm.Result cli) {
        @Override
        public String toString() {
            return "--- attach\n" + cli + "\n--- target " + pid + "\n" + target;
        }
    }

    /**
     * Starts the app without the agent, waits until it says it is ready, runs
     * {@code java -jar tokenguard-agent.jar attach <pid> budget.max-tokens=700}, tells the app to go on, and waits
     * for it to end.
     */
    private Attached attach(List<String> targetOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of(ForkedJvm.JAVA, "-Xshare:auto", "-XX:TieredStopAtLevel=1"));
        command.addAll(targetOptions);
        command.addAll(List.of("-cp", ForkedJvm.applicationClassPath(), APP, "wait-for-attach", server.baseUrl(),
                "100"));
        try (PausedJvm target = PausedJvm.start(work, command)) {
            List<String> stdout = new ArrayList<>(target.stdout);
            stdout.add(target.readyLine);
            ForkedJvm.Result cli = ForkedJvm.runJar(work, null, List.of(), ForkedJvm.AGENT_JAR, "attach",
                    target.pid(), "budget.max-tokens=700");
            // the attach command returns once the agent's agentmain has: the app may call on
            if (!target.go()) {
                throw new IllegalStateException("the app did not end after the attach");
            }
            stdout.addAll(target.stdout.subList(stdout.size() - 1, target.stdout.size()));
            return new Attached(target.process.pid(), new ForkedJvm.Result(target.process.exitValue(), stdout,
                    target.stderrLines()), cli);
        }
    }
}
