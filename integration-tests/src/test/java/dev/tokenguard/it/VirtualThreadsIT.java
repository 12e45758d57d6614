package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * One virtual thread per request ({@code Executors.newVirtualThreadPerTaskExecutor()}), the default {@code thread}
 * scope: each request has a budget of its own, and its scope and session end with its virtual thread while the
 * JVM runs on. Needs Java 21 in the forked JVMs (the build's Java 25 pass).
 */
class VirtualThreadsIT {
    static final Pattern REQUEST = Pattern.compile("\"Request (\\d+) call (\\d+): ");
    static final int REQUESTS = 20;
    static final long LIMIT = 600;

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
    void eachRequestOnItsVirtualThreadHasABudgetOfItsOwnReleasedWhenTheThreadEnds() throws Exception {
        int java = ForkedJvm.javaFeature();
        assumeTrue(java >= 21, "virtual threads came with Java 21; these JVMs run Java " + java);
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.max-tokens=" + LIMIT, List.of(), Map.of(),
                "dev.tokenguard.it.app.ModernJvmScenarioApp", "virtual-requests", server.baseUrl(),
                String.valueOf(REQUESTS), "50");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(OpenAiAgentIT.EXPECTED_AGENT_LINES, result.stderr(), result::toString);

        // the server's ledger, per request (the user message names it), in the order served
        Map<Integer, List<Long>> served = new TreeMap<>();
        for (RecordedRequest r : server.requests()) {
            Matcher m = REQUEST.matcher(r.body());
            assertTrue(m.find(), r.body());
            served.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(r.usage().totalTokens());
        }
        assertEquals(REQUESTS, served.size(), served::toString);
        List<String> lines = result.lines("REQUEST ");
        assertEquals(REQUESTS, lines.size(), result::toString);
        for (int r = 0; r < REQUESTS; r++) {
            List<Long> calls = served.get(r);
            long all = calls.stream().mapToLong(Long::longValue).sum();
            long allButLast = all - calls.get(calls.size() - 1);
            assertTrue(allButLast < LIMIT && all >= LIMIT, "request " + r + " was served until its own budget was "
                    + "used up, whatever the other requests used: " + calls);
            assertEquals("REQUEST " + r + " OK " + calls.size() + " REFUSED 1 virtual", lines.get(r), result::toString);
        }

        // one session per request, charged exactly what the server served it, ended with its virtual thread
        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        assertEquals("ENDED " + REQUESTS, result.lines("ENDED ").get(0), "every request's session ended while the "
                + "JVM ran, before shutdown: " + result);
        Map<String, Long> charged = logs.of("llm_call").stream().collect(Collectors.groupingBy(
                e -> e.path("session").asText(), TreeMap::new, Collectors.summingLong(e -> e.path("total_tokens").asLong())));
        assertEquals(served.values().stream().map(c -> c.stream().mapToLong(Long::longValue).sum()).sorted().toList(),
                charged.values().stream().sorted().toList());
        List<JsonNode> ends = logs.of("session_end");
        assertEquals(REQUESTS, ends.size());
        for (JsonNode end : ends) {
            assertEquals("thread_end", end.path("reason").asText(), end::toString);
            assertEquals(charged.get(end.path("session").asText()), end.path("total_tokens").asLong(), end::toString);
        }
        assertEquals(REQUESTS, logs.of("budget_exceeded").size());
    }
}
