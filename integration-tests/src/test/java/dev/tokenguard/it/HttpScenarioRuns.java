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
     * Per scenario: one llm_call per request the server answered, status ok, the streaming flag of the scenario;
     * each answer that reported its usage charged the server's own input and output tokens, the provider's usage;
     * each that did not (an OpenAI chat stream that went out as the app built it, for the agent to learn whether
     * the endpoint sends usage unasked: see {@link #probes}) charged a local estimate.
     */
    static void assertOneChargePerRequest(Map<String, List<RecordedRequest>> requests, SessionLogs logs) {
        Map<String, List<JsonNode>> calls = callsByScenario(logs, "llm_call");
        for (Map.Entry<String, List<RecordedRequest>> e : requests.entrySet()) {
            String scenario = e.getKey();
            List<JsonNode> charged = calls.getOrDefault(scenario, List.of());
            assertEquals(e.getValue().size(), charged.size(), scenario);
            List<RecordedRequest> reported = e.getValue().stream().filter(RecordedRequest::usageReported).toList();
            List<RecordedRequest> unreported = e.getValue().stream().filter(r -> !r.usageReported()).toList();
            assertEquals(probes(e.getValue()), unreported, scenario + ": only a probing stream reports no usage");
            List<JsonNode> exact = charged.stream().filter(c -> c.get("usage_source").asText().equals("provider"))
                    .toList();
            assertEquals(reported.size(), exact.size(), scenario);
            assertEquals(unreported.size(), charged.stream()
                    .filter(c -> c.get("usage_source").asText().equals("estimated")).count(), scenario);
            assertEquals(reported.stream().mapToLong(r -> r.usage().inputTokens()).sum(),
                    exact.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum(), scenario);
            assertEquals(reported.stream().mapToLong(r -> r.usage().outputTokens()).sum(),
                    exact.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum(), scenario);
            for (JsonNode c : charged) {
                assertEquals("ok", c.get("status").asText(), c::toString);
                assertEquals(isAnthropic(scenario) ? "anthropic" : "openai", c.get("provider").asText(), c::toString);
                assertEquals(scenario.contains("stream"), c.get("streaming").asBoolean(), c::toString);
            }
        }
        assertEquals(requests.values().stream().mapToInt(List::size).sum(), logs.of("llm_call").size());
    }

    /**
     * The OpenAI chat streams that went out as the app built them, without asking for usage, and got none: the
     * agent's probes of an endpoint it did not know yet (the fake server reports a stream's usage only when asked).
     */
    static List<RecordedRequest> probes(List<RecordedRequest> requests) {
        return requests.stream().filter(r -> r.streaming() && r.path().endsWith("/chat/completions")
                && !r.body().contains("include_usage") && !r.usageReported()).toList();
    }

    /**
     * What each answered request counted against the budget, in order: the tokens the server reported, and for the
     * probing stream (see {@link #probes}; at most one in a run whose calls go one after the other) the local
     * estimate it was charged, which is the only figure the agent had for it.
     */
    static List<Long> budgetTotals(List<RecordedRequest> served, List<JsonNode> calls) {
        List<RecordedRequest> probes = probes(served);
        List<JsonNode> estimated = calls.stream()
                .filter(c -> c.get("usage_source").asText().equals("estimated")).toList();
        assertTrue(probes.size() <= 1, probes::toString);
        assertEquals(probes.size(), estimated.size(), estimated::toString);
        List<Long> totals = new ArrayList<>();
        for (RecordedRequest r : served) {
            if (!r.answered()) {
                continue;
            }
            totals.add(probes.contains(r) ? estimated.get(0).get("total_tokens").asLong() : r.usage().totalTokens());
        }
        return totals;
    }

    /**
     * A JVM's OpenAI chat streams that did not ask for usage: the first went out as the app built it (the agent's
     * probe, charged an estimate) and taught the agent that the fake server reports usage only when asked; every
     * one after it was sent asking.
     */
    static void assertTheFirstStreamProbedAndTheOthersAsked(List<RecordedRequest> streams) {
        assertTrue(streams.size() > 1, streams::toString);
        assertEquals(List.of(streams.get(0)), probes(streams), streams::toString);
        for (RecordedRequest r : streams.subList(1, streams.size())) {
            assertTrue(r.usageReported(), "the agent asked for the stream's usage: " + r.body());
        }
    }

    /**
     * Per scenario of a run under a budget of {@code limit}: calls were served until the budget was exhausted
     * and none after, the three calls after that were refused with one budget_exceeded each, and what was
     * charged is what the server served.
     */
    static void assertRefusedAtTheLimit(ForkedJvm.Result result, long limit, Map<String, List<String>> blocks,
                                        Map<String, List<RecordedRequest>> requests, SessionLogs logs) {
        Map<String, List<JsonNode>> exceeded = callsByScenario(logs, "budget_exceeded");
        Map<String, List<JsonNode>> calls = callsByScenario(logs, "llm_call");
        for (Map.Entry<String, List<RecordedRequest>> e : requests.entrySet()) {
            String scenario = e.getKey();
            // the server's usage per answer; the estimate charged for a probing stream (the only figure it had)
            List<Long> served = budgetTotals(e.getValue(), calls.getOrDefault(scenario, List.of()));
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
