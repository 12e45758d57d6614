package dev.tokenguard.it;

import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bad configuration on a real {@code -javaagent} flag: a malformed YAML config file, a malformed price file, a
 * credential pasted as a value, an unknown key. Each time the app must run exactly as without the agent
 * (uninstrumented, no session log) and TokenGuard prints one line, which never holds the credential.
 */
class ConfigFaultsIT {
    static final String APP = OpenAiAgentIT.APP;
    static final String SECRET = "Ab12Cd34Ef56Gh78Ij90Kl12Mn34";
    static final int CALLS = 5;

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

    ForkedJvm.Result run(String name, String agentArgs, Map<String, String> env) throws Exception {
        Path dir = Files.createDirectories(work.resolve(name));
        server.reset(); // the server's answers depend on its request sequence
        return ForkedJvm.run(dir, agentArgs, List.of(), env, APP, "sync", server.baseUrl(), String.valueOf(CALLS));
    }

    @Test
    void aBadConfigurationLeavesTheAppAsWithoutTheAgentWithOneLine() throws Exception {
        ForkedJvm.Result without = run("without", null, Map.of());

        Path yaml = work.resolve("tokenguard.yaml");
        Files.writeString(yaml, "tokenguard:\n  mode: warn\n  budget: {max-tokens: 5000\n  openai-key: \"sk-proj-"
                + SECRET + "\n");
        Path prices = work.resolve("prices.json");
        Files.writeString(prices, "{\"models\": [{\"pattern\": \"gpt-x\", \"input\": sk-proj-" + SECRET + "}]}\n");
        List<ForkedJvm.Result> runs = List.of(
                run("yaml", "config.file=" + yaml, Map.of()),
                run("prices", "pricing.file=" + prices, Map.of()),
                run("credential", "", Map.of("TOKENGUARD_BUDGET_MAX_TOKENS", "sk-ant-api03-" + SECRET)),
                run("unknown", "budget.max-tokns=5000", Map.of()));
        List<String> expectedStarts = List.of(
                "TokenGuard: cannot parse config file " + yaml + " at line ",
                "TokenGuard: tokenguard.pricing.file=" + prices + ": not valid JSON at line 1, column ",
                "TokenGuard: invalid value for tokenguard.budget.max-tokens (from environment variable"
                        + " TOKENGUARD_BUDGET_MAX_TOKENS), not shown: the value is masked because it looks like a secret;",
                "TokenGuard: unknown configuration key tokenguard.budget.max-tokns (from agent argument): the closest"
                        + " known key is tokenguard.budget.max-tokens");

        assertEquals(0, without.exitCode(), without::toString);
        assertEquals(CALLS, without.lines("OK ").size(), without::toString);
        assertEquals(4, runs.size());
        for (int i = 0; i < runs.size(); i++) {
            ForkedJvm.Result r = runs.get(i);
            assertEquals(0, r.exitCode(), r::toString);
            assertEquals(without.stdout(), r.stdout(), r::toString);
            assertEquals(1, r.agentLines().size(), r::toString);
            String line = r.agentLines().get(0).replaceFirst("^\\[tokenguard\\] ", "");
            assertTrue(line.startsWith(expectedStarts.get(i)), line);
            assertTrue(line.endsWith("; TokenGuard is disabled, the application runs uninstrumented"), line);
            assertFalse(String.join("\n", r.stderr()).contains(SECRET), r::toString);
            assertFalse(Files.exists(work.resolve(List.of("yaml", "prices", "credential", "unknown").get(i))
                    .resolve("tokenguard-sessions")), "uninstrumented: no session log");
        }
    }
}
