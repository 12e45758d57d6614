package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs of the raw-HTTP scenario apps that take several scenarios per JVM, each on a thread (and so a
 * budget and a session) of its own: the app's output split into one block per scenario, and the checks
 * that every such run makes against the fake servers' own ledgers.
 */
final class HttpScenarioRuns {
    private HttpScenarioRuns() {
    }

    static boolean isAnthropic(String scenario) {
        return scenario.startsWith("messages");
    }

    /** The lines each scenario printed after its {@code SCENARIO <name>} line, by scenario, in order. */
    static Map<String, List<String>> blocks(ForkedJvm.Result result) {
        Map<String, List<String>> blocks = new LinkedHashMap<>();
        List<String> current = null;
        for (String line : result.stdout()) {
            if (line.startsWith("SCENARIO ")) {
                current = new ArrayList<>();
                blocks.put(line.substring("SCENARIO ".length()), current);
            } else if (current != null && (line.startsWith("OK ") || line.startsWith("REFUSED "))) {
                current.add(line);
            }
        }
        return blocks;
    }

    static List<String> startingWith(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).toList();
    }

    /** The llm_call events of each scenario's thread, by scenario. */
    static Map<String, List<JsonNode>> callsByScenario(SessionLogs logs, String event) {
        Map<String, String> threadOfSession = new HashMap<>();
        for (JsonNode start : logs.of("session_start")) {
            threadOfSession.put(start.get("session").asText(), start.get("thread").asText());
        }
        Map<String, List<JsonNode>> byScenario = new HashMap<>();
        for (JsonNode e : logs.of(event)) {
            String thread = threadOfSession.getOrDefault(e.get("session").asText(), "");
            String scenario = thread.startsWith("scenario-") ? thread.substring("scenario-".length()) : thread;
            byScenario.computeIfAbsent(scenario, k -> new ArrayList<>()).add(e);
        }
        return byScenario;
    }

    /**
     * Each scenario's requests, in order, as the two servers recorded them: the scenarios ran one after the
     * other, each sending {@code sent.get(scenario)} requests.
     */
    static Map<String, List<RecordedRequest>> requestsByScenario(List<String> scenarios, Map<String, Integer> sent,
                                                                 FakeOpenAiServer openAi, FakeAnthropicServer anthropic) {
        List<RecordedRequest> o = openAi.requests();
        List<RecordedRequest> a = anthropic.requests();
        int oi = 0;
        int ai = 0;
        Map<String, List<RecordedRequest>> byScenario = new LinkedHashMap<>();
        for (String s : scenarios) {
            int n = sent.get(s);
            if (isAnthropic(s)) {
                byScenario.put(s, a.subList(ai, ai + n));
                ai += n;
            } else {
                byScenario.put(s, o.subList(oi, oi + n));
                oi += n;
            }
        }
        assertEquals(o.size(), oi, "every OpenAI request belongs to a scenario");
        assertEquals(a.size(), ai, "every Anthropic request belongs to a scenario");
        return byScenario;
    }

    /**
     * Per scenario: one llm_call per request the server answered, with the server's own input and output
     * tokens, the provider's usage, status ok, and the streaming flag of the scenario.
     */
    static void assertOneChargePerRequest(Map<String, List<RecordedRequest>> requests, SessionLogs logs) {
        Map<String, List<JsonNode>> calls = callsByScenario(logs, "llm_call");
        for (Map.Entry<String, List<RecordedRequest>> e : requests.entrySet()) {
            String scenario = e.getKey();
            List<JsonNode> charged = calls.getOrDefault(scenario, List.of());
            assertEquals(e.getValue().size(), charged.size(), scenario);
            assertEquals(e.getValue().stream().mapToLong(r -> r.usage().inputTokens()).sum(),
                    charged.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum(), scenario);
            assertEquals(e.getValue().stream().mapToLong(r -> r.usage().outputTokens()).sum(),
                    charged.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum(), scenario);
            for (JsonNode c : charged) {
                assertEquals("provider", c.get("usage_source").asText(), c::toString);
                assertEquals("ok", c.get("status").asText(), c::toString);
                assertEquals(isAnthropic(scenario) ? "anthropic" : "openai", c.get("provider").asText(), c::toString);
                assertEquals(scenario.contains("stream"), c.get("streaming").asBoolean(), c::toString);
            }
        }
        assertEquals(requests.values().stream().mapToInt(List::size).sum(), logs.of("llm_call").size());
    }

    /**
     * Per scenario of a run under a budget of {@code limit}: calls were served until the budget was exhausted
     * and none after, the three calls after that were refused with one budget_exceeded each, and what was
     * charged is what the server served.
     */
    static void assertRefusedAtTheLimit(ForkedJvm.Result result, long limit, Map<String, List<String>> blocks,
                                        Map<String, List<RecordedRequest>> requests, SessionLogs logs) {
        Map<String, List<JsonNode>> exceeded = callsByScenario(logs, "budget_exceeded");
        for (Map.Entry<String, List<RecordedRequest>> e : requests.entrySet()) {
            String scenario = e.getKey();
            List<Long> served = e.getValue().stream().filter(RecordedRequest::answered)
                    .map(r -> r.usage().totalTokens()).toList();
            int k = served.size();
            assertTrue(k > 1, scenario + ": several calls were served before the refusal: " + served + "\n" + result);
            assertEquals(k, e.getValue().size(), scenario + ": every request was answered");
            long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
            long all = served.stream().mapToLong(Long::longValue).sum();
            assertTrue(before < limit && all >= limit, scenario + ": the server stopped exactly when the budget was "
                    + "exhausted: " + served + "\n" + result);
            assertEquals(k, startingWith(blocks.get(scenario), "OK ").size(), result::toString);
            List<String> refused = startingWith(blocks.get(scenario), "REFUSED ");
            assertEquals(3, refused.size(), result::toString);
            for (String r : refused) {
                assertTrue(r.startsWith("REFUSED dev.tokenguard.api.BudgetExhaustedException Token budget 'default' "
                        + "exhausted for scope thread:scenario-" + scenario + "#"), r);
            }
            assertEquals(3, exceeded.getOrDefault(scenario, List.of()).size(), scenario);
        }
        assertOneChargePerRequest(requests, logs);
    }

    /** No API key in the session log or in anything the agent printed. */
    static void assertNoSecrets(Path sessions, ForkedJvm.Result result) throws Exception {
        try (var files = Files.list(sessions)) {
            for (Path f : files.toList()) {
                assertFalse(Files.readString(f).contains("secret-4711"), "no API key in " + f);
            }
        }
        assertFalse(String.join("\n", result.agentLines()).contains("secret-4711"));
    }
}
