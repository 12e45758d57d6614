package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's build-budget recipe, run for real: a small Maven project (test resource {@code build-budget}) whose
 * JUnit 5 tests ask a model through openai-java, with the agent on Surefire's {@code argLine} and one global token
 * budget for the whole test run, built by a nested {@code mvn -q test} against the fake OpenAI server.
 * The suite overspends: the build fails, Surefire names the refused tests with the budget and its limit, and the
 * session log tells which test spent what.
 */
class BuildBudgetIT {
    static final long LIMIT = 200; // llm.build.budget.tokens in the project's pom
    /** The project's tests in their declared order, each one call. */
    static final List<String> TESTS = List.of("summarisesATicket", "classifiesATicket", "translatesAReply",
            "draftsAnAnswer");
    static final String TEST_CLASS = "com.acme.support.SupportBotTest";

    @TempDir
    Path work;

    @Test
    void aSuiteThatOverspendsFailsTheBuildNamingTheBudgetItsLimitAndTheRefusedTest() throws Exception {
        Path project = copyProject();
        String output;
        int exit;
        List<RecordedRequest> served;
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            Path log = work.resolve("mvn.log");
            ProcessBuilder builder = new ProcessBuilder(mvnCommand(server.baseUrl())).directory(project.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_"));
            builder.environment().put("MAVEN_OPTS", "-XX:TieredStopAtLevel=1 -Xshare:auto"); // a short build: quick JIT
            Process mvn = builder.start();
            if (!mvn.waitFor(5, TimeUnit.MINUTES)) {
                mvn.descendants().forEach(ProcessHandle::destroyForcibly);
                mvn.destroyForcibly();
                throw new AssertionError("the nested build did not end within 5 minutes:\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            exit = mvn.exitValue();
            output = Files.readString(log, StandardCharsets.UTF_8);
            served = server.requests();
        }

        // the oracle: what the fake server answered, in order; the first test after the budget ran out is refused
        List<Long> totals = served.stream().map(r -> r.usage().totalTokens()).toList();
        int k = totals.size();
        assertTrue(k >= 1 && k < TESTS.size(), "some tests spent, some were refused: " + totals + "\n" + output);
        long spent = totals.stream().mapToLong(Long::longValue).sum();
        long beforeLast = spent - totals.get(k - 1);
        assertTrue(beforeLast < LIMIT && spent >= LIMIT, "the last call served crossed the limit: " + totals);
        String message = "Token budget 'default' exhausted for scope global: " + String.format(Locale.ROOT, "%,d",
                spent) + " of " + String.format(Locale.ROOT, "%,d", LIMIT) + " tokens used; refused openai chat"
                + " gpt-4o-mini";

        assertNotEquals(0, exit, output);
        String refused = TESTS.get(k);
        assertTrue(output.lines().anyMatch(l -> l.contains("SupportBotTest." + refused) && l.contains(message)),
                "Surefire names the refused test with the budget and its limit:\n" + output);
        assertTrue(output.contains("Tests run: " + TESTS.size() + ", Failures: 0, Errors: " + (TESTS.size() - k)),
                output);
        assertTrue(!output.contains("sk-build-secret-key-456"), "the API key is never printed");

        // the Surefire report: each refused test, its error type and message; the others passed
        Document report = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(project
                .resolve("target/surefire-reports/TEST-" + TEST_CLASS + ".xml").toFile());
        NodeList cases = report.getElementsByTagName("testcase");
        assertEquals(TESTS.size(), cases.getLength());
        for (int i = 0; i < cases.getLength(); i++) {
            Element c = (Element) cases.item(i);
            assertEquals(TESTS.get(i), c.getAttribute("name"), "declared order");
            Element error = (Element) c.getElementsByTagName("error").item(0);
            if (i < k) {
                assertNull(error, TESTS.get(i) + " was admitted");
            } else {
                assertTrue(error != null, TESTS.get(i) + " was refused");
                assertEquals("dev.tokenguard.api.BudgetExhaustedException", error.getAttribute("type"));
                assertEquals(message, error.getAttribute("message"));
            }
        }

        // the session log: which test spent what, and where the refusals were
        SessionLogs logs = SessionLogs.read(project.resolve("target/tokenguard-sessions"));
        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(k, calls.size(), "one llm_call per request served");
        for (int i = 0; i < k; i++) {
            JsonNode call = calls.get(i);
            assertTrue(call.path("call_site").asText().startsWith(TEST_CLASS + "." + TESTS.get(i) + ":"),
                    call.toString());
            assertEquals(totals.get(i).longValue(), call.path("total_tokens").asLong(), call.toString());
        }
        List<JsonNode> refusals = logs.of("budget_exceeded");
        assertEquals(TESTS.size() - k, refusals.size(), "one budget_exceeded per refused test");
        for (int i = 0; i < refusals.size(); i++) {
            JsonNode r = refusals.get(i);
            assertTrue(r.path("call_site").asText().startsWith(TEST_CLASS + "." + TESTS.get(k + i) + ":"),
                    r.toString());
            assertEquals(LIMIT, r.path("limit").asLong());
            assertEquals(spent, r.path("used").asLong());
        }

        // replay, from the agent jar, prints the run call by call: the call sequence (no content was captured)
        assertEquals(1, logs.files.size(), "one global session for the test JVM");
        Process replay = new ProcessBuilder(ForkedJvm.JAVA, "-jar", ForkedJvm.AGENT_JAR.toString(), "replay",
                logs.files.get(0).toString()).redirectErrorStream(true).start();
        List<String> lines = new String(replay.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .toList();
        assertEquals(0, replay.waitFor(), String.join("\n", lines));
        List<String> callLines = lines.stream().filter(l -> l.contains("  call openai chat gpt-4o-mini")).toList();
        assertEquals(k, callLines.size(), String.join("\n", lines));
        for (int i = 0; i < k; i++) {
            assertTrue(callLines.get(i).contains(" at " + TEST_CLASS + "." + TESTS.get(i) + ":"), callLines.get(i));
        }
        List<String> tokenLines = lines.stream().filter(l -> l.startsWith("    tokens: ")).toList();
        assertEquals(k, tokenLines.size(), String.join("\n", lines));
        long running = 0;
        for (int i = 0; i < k; i++) {
            running += totals.get(i);
            assertTrue(tokenLines.get(i).contains(" " + totals.get(i) + " total;")
                    && tokenLines.get(i).endsWith("budget 'default' " + running + " of " + LIMIT + " tokens"),
                    tokenLines.get(i));
        }
        List<String> refusedLines = lines.stream().filter(l -> l.contains("  REFUSED ")).toList();
        assertEquals(TESTS.size() - k, refusedLines.size(), String.join("\n", lines));
        assertTrue(refusedLines.get(0).contains("REFUSED openai gpt-4o-mini at " + TEST_CLASS + "." + refused + ":")
                && refusedLines.get(0).endsWith(spent + " of " + LIMIT + " tokens used; the request was not sent"),
                refusedLines.get(0));
        assertTrue(lines.contains("no content captured in this session (the agent logs messages and answers with"
                + " tokenguard.session-log.capture-content=true); the call sequence:"), String.join("\n", lines));
    }

    /** The project, copied out of the test class path into a directory of its own. */
    private Path copyProject() throws Exception {
        Path source = Path.of(BuildBudgetIT.class.getResource("/build-budget/pom.xml").toURI()).getParent();
        Path target = work.resolve("support-bot");
        try (Stream<Path> files = Files.walk(source)) {
            for (Path p : files.toList()) {
                Path to = target.resolve(source.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        return target;
    }

    /**
     * {@code mvn -q test} with the versions this build uses and the local repository this build uses. Not offline: the
     * project depends on openai-java as an application does, so Maven resolves the SDK's own Jackson and Kotlin
     * versions, which this build (managing newer ones) never downloads; on a fresh machine they come from Maven
     * Central the first time, after that from the local repository. The agent jar goes in a property outside {@code tokenguard.*}:
     * Surefire hands command-line properties to the test JVM, where the agent would read them as its settings.
     */
    private static List<String> mvnCommand(String baseUrl) throws IOException {
        String home = System.getProperty("tokenguard.maven.home", "");
        Path mvn = home.isBlank() ? null : Path.of(home, "bin", "mvn");
        List<String> command = new ArrayList<>(List.of(mvn != null && Files.isExecutable(mvn) ? mvn.toString() : "mvn",
                "-q", "-B", "test",
                "-DtokenguardAgent=" + ForkedJvm.AGENT_JAR,
                "-Dsupport.llm.base-url=" + baseUrl,
                "-Dopenai.version=" + required("tokenguard.openai.version"),
                "-Djunit.version=" + required("tokenguard.junit.version"),
                "-Dsurefire.version=" + required("tokenguard.surefire.version"),
                "-Dcompiler.plugin.version=" + required("tokenguard.compiler.plugin.version")));
        String repo = System.getProperty("tokenguard.maven.repo.local", "");
        if (!repo.isBlank()) {
            command.add("-Dmaven.repo.local=" + repo);
        }
        if (!Files.isRegularFile(ForkedJvm.AGENT_JAR)) {
            throw new IOException("agent jar not built: " + ForkedJvm.AGENT_JAR);
        }
        return command;
    }

    private static String required(String property) {
        String value = System.getProperty(property, "");
        if (value.isBlank()) {
            throw new IllegalStateException("system property " + property + " is not set (integration-tests/pom.xml"
                    + " sets it for failsafe)");
        }
        return value;
    }
}
