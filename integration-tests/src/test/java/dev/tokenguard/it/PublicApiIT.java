package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.api.TokenGuard;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The optional {@code tokenguard-api} jar in an application's hands: on the plain class path, loaded again by an
 * isolated class loader, and nested in a Spring Boot executable jar. With the agent, the agent's bootstrap copy is the
 * one each of them sees, and every call the fake server answered reaches the listeners exactly once with the tokens
 * the server counted; without it, the API answers "inactive", delivers nothing and throws nothing.
 */
class PublicApiIT {
    static final String APP = "dev.tokenguard.it.app.PublicApiApp";
    /** Calls the app makes: 4 threads of 5, two on main, one while the isolated loader listens. */
    static final int CALLS = 4 * 5 + 2 + 1;

    @TempDir
    Path work;

    /** Where the API's classes are: the jar (or classes directory) this test itself loaded them from. */
    static String apiLocation() throws Exception {
        return Path.of(TokenGuard.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    static String only(ForkedJvm.Result result, String prefix) {
        List<String> lines = result.lines(prefix + " ");
        assertEquals(1, lines.size(), result::toString);
        return lines.get(0).substring(prefix.length() + 1);
    }

    @Test
    void withTheAgentEveryClassLoaderSeesItsCopyAndEveryCallIsDeliveredOnceAsTheServerCountedIt() throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(work, "", List.of(), Map.of(), APP, apiLocation());
        assertEquals(0, result.exitCode(), result::toString);
        List<String> agentLines = result.agentLines();
        assertEquals(3, agentLines.size(), result::toString);
        assertEquals(OpenAiAgentIT.EXPECTED_AGENT_LINES.stream().sorted().toList(),
                agentLines.stream().filter(l -> l.startsWith("[tokenguard] TokenGuard: governing ")).sorted().toList(),
                result::toString);
        // the listener that throws: reported once for all its calls, with its type, never its message
        List<String> listenerLines = agentLines.stream().filter(l -> l.startsWith("TokenGuard: a usage listener"))
                .toList();
        assertEquals(1, listenerLines.size(), result::toString);
        assertTrue(listenerLines.get(0).startsWith("TokenGuard: a usage listener (dev.tokenguard.it.app.PublicApiApp$$"),
                listenerLines.get(0));
        assertTrue(listenerLines.get(0).contains(" threw java.lang.IllegalStateException; the call was not affected"),
                listenerLines.get(0));
        assertTrue(listenerLines.get(0).indexOf("a bug in the application") < 0, listenerLines.get(0));

        assertEquals("true loader=bootstrap", only(result, "ACTIVE"));
        String before = only(result, "BUDGET-BEFORE");
        assertTrue(before.matches("default thread:main#\\d+ used=0 limit=100000 remaining=100000 window-end=null"),
                before);
        String mainScope = before.split(" ")[1];
        assertEquals("empty", only(result, "NAMED"));
        assertEquals("true true", only(result, "SUBSCRIPTION"));
        assertEquals("loader=bootstrap same=true active=true", only(result, "ISOLATED"));
        assertEquals(List.of(), result.lines("FAILED"), result::toString);
        assertEquals(List.of(), result.lines("MISSING"), result::toString);

        // the server's ledger: what each ticket's call cost
        List<String> served = result.lines("SERVER ");
        assertEquals(CALLS, served.size(), result::toString);
        Map<String, Long> byTicket = new LinkedHashMap<>();
        for (String line : served) {
            String[] f = line.split(" ");
            byTicket.put(f[1], Long.parseLong(f[2]));
        }
        assertEquals(CALLS, byTicket.size(), "one request per ticket: " + served);
        assertEquals("true " + byTicket.get("Ticket-102"), only(result, "ISOLATED-EVENT"));

        // every call once, with the tokens the server counted, in its own thread's scope
        String callSite = "dev.tokenguard.it.app.ScenarioApp.syncChat:"
                + OtelExportIT.markedLine("call-site: syncChat");
        List<String> events = result.lines("EVENT ");
        assertEquals(CALLS, events.size(), result::toString);
        Map<String, List<Long>> totalsByScope = new LinkedHashMap<>();
        Map<String, List<Long>> usedByScope = new HashMap<>();
        for (String line : events) {
            String[] f = line.split(" ");
            assertEquals(12, f.length, line);
            assertEquals(List.of("openai", "chat", "gpt-4o-mini", "provider", "false", callSite),
                    List.of(f[2], f[3], f[4], f[8], f[9], f[10]), line);
            assertEquals(Long.parseLong(f[5]) + Long.parseLong(f[6]), Long.parseLong(f[7]), line);
            totalsByScope.computeIfAbsent(f[1], k -> new ArrayList<>()).add(Long.parseLong(f[7]));
            usedByScope.computeIfAbsent(f[1], k -> new ArrayList<>()).add(Long.parseLong(f[11]));
        }
        assertEquals(5, totalsByScope.size(), "four workers and main: " + totalsByScope.keySet());
        for (int w = 0; w < 4; w++) {
            String prefix = "thread:worker-" + w + "#";
            List<String> scopes = totalsByScope.keySet().stream().filter(k -> k.startsWith(prefix)).toList();
            assertEquals(1, scopes.size(), totalsByScope::toString);
            String scope = scopes.get(0);
            List<Long> expected = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                expected.add(byTicket.get("Ticket-" + (w * 5 + i)));
            }
            assertEquals(expected, totalsByScope.get(scope), scope);
            assertEquals(cumulative(expected), usedByScope.get(scope), "the budget after each charge: " + scope);
        }
        List<Long> mainCalls = List.of(byTicket.get("Ticket-100"), byTicket.get("Ticket-101"),
                byTicket.get("Ticket-102"));
        assertEquals(mainCalls, totalsByScope.get(mainScope));
        assertEquals(cumulative(mainCalls), usedByScope.get(mainScope));
        long mainUsed = mainCalls.get(0) + mainCalls.get(1) + mainCalls.get(2);
        assertEquals("default " + mainScope + " used=" + mainUsed + " limit=100000 remaining=" + (100_000 - mainUsed)
                + " window-end=null", only(result, "BUDGET-AFTER"));

        // and the session log says the same
        List<JsonNode> logged = SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call");
        assertEquals(CALLS, logged.size());
        assertEquals(byTicket.values().stream().mapToLong(Long::longValue).sum(),
                logged.stream().mapToLong(c -> c.path("total_tokens").asLong()).sum());
    }

    private static List<Long> cumulative(List<Long> values) {
        List<Long> out = new ArrayList<>();
        long sum = 0;
        for (long v : values) {
            sum += v;
            out.add(sum);
        }
        return out;
    }

    @Test
    void withoutTheAgentTheApiIsInactiveDeliversNothingAndTheCallsGoThrough() throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(work, null, List.of(), Map.of(), APP, apiLocation());
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(), result.agentLines(), result::toString);
        assertEquals(List.of(), result.stderr(), result::toString);
        assertEquals("false loader=app", only(result, "ACTIVE"));
        assertEquals("empty", only(result, "BUDGET-BEFORE"));
        assertEquals("empty", only(result, "NAMED"));
        assertEquals("false false", only(result, "SUBSCRIPTION"));
        assertEquals("loader=isolated same=false active=false", only(result, "ISOLATED"));
        assertEquals("none", only(result, "ISOLATED-EVENT"));
        assertEquals(List.of(), result.lines("FAILED"), result::toString);
        assertEquals(CALLS, result.lines("SERVER ").size(), result::toString);
        assertEquals(List.of(), result.lines("EVENT "), result::toString);
        assertEquals("empty", only(result, "BUDGET-AFTER"));
        assertTrue(Files.notExists(work.resolve("tokenguard-sessions")));
    }

    @Test
    void inASpringBootJarTheBootLoaderFindsTheAgentsCopyFirst() throws Exception {
        assertTrue(Files.isRegularFile(SpringAi1Boot3AgentIT.JAR), "the Spring Boot test app is not built: "
                + SpringAi1Boot3AgentIT.JAR);
        try (FakeOpenAiServer openai = FakeOpenAiServer.start(); FakeAnthropicServer anthropic =
                FakeAnthropicServer.start()) {
            ForkedJvm.Result result = ForkedJvm.runJar(work, "", List.of(), SpringAi1Boot3AgentIT.JAR,
                    "--spring.ai.openai.base-url=http://127.0.0.1:" + openai.port(),
                    "--spring.ai.anthropic.base-url=http://127.0.0.1:" + anthropic.port(), "--steps=tokenguard-api");
            assertEquals(0, result.exitCode(), result::toString);
            List<String> agentLines = result.agentLines();
            assertTrue(agentLines.contains(SpringAi1Boot3AgentIT.GOVERNING_OPENAI), result::toString);
            for (String l : agentLines) {
                assertTrue(l.startsWith("[tokenguard] TokenGuard: governing "), result::toString);
            }
            List<RecordedRequest> requests = openai.requests();
            assertEquals(1, requests.size(), openai::toString);
            long total = requests.get(0).usage().totalTokens();
            List<String> step = result.lines("STEP tokenguard-api ");
            assertEquals(1, step.size(), result::toString);
            String line = step.get(0);
            assertTrue(line.startsWith("STEP tokenguard-api ok active=true bootstrap=true subscribed=true text="),
                    line);
            String scope = line.substring(line.indexOf(" budget=") + 8, line.lastIndexOf('/'));
            assertTrue(scope.startsWith("thread:main#"), line);
            assertTrue(line.endsWith(" event=openai/chat/" + total + "/" + scope + " budget=" + scope + "/" + total),
                    line);
        }
    }
}
