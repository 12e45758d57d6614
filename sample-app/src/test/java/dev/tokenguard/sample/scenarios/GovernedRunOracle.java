package dev.tokenguard.sample.scenarios;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.sample.stub.RecordedRequest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oracle of a scenario run under a token budget, the same whether the agent ran in process or
 * on a forked JVM's {@code -javaagent} flag. Every expected figure comes from the fake server's own
 * ledger: the server must have stopped serving exactly when the budget was exhausted, the app must
 * have seen every served call and then refusals, and the session log must hold what the server served.
 */
public final class GovernedRunOracle {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What the run is checked against.
     *
     * @param limit           the token budget
     * @param provider        the provider every call is logged with
     * @param model           the model the refusal names
     * @param streaming       whether the calls stream
     * @param bootstrapRefusal whether the refusal class must be the bootstrap one (the real agent jar)
     * @param operation       the operation every call is logged with, e.g. {@code chat}, {@code generate_content}
     */
    public record Expected(long limit, String provider, String model, boolean streaming, boolean bootstrapRefusal,
                           String operation) {

        /** A run of chat calls. */
        public Expected(long limit, String provider, String model, boolean streaming, boolean bootstrapRefusal) {
            this(limit, provider, model, streaming, bootstrapRefusal, "chat");
        }
    }

    private GovernedRunOracle() {
    }

    /**
     * @param stdout     the app's output lines
     * @param sessionDir the session-log directory of the run
     * @param requests   the server's ledger of the run's requests
     * @param input      the server's total input tokens
     * @param output     the server's total output tokens
     */
    public static void assertRefusedExactlyAtTheLimit(List<String> stdout, Path sessionDir, List<RecordedRequest> requests,
                                                      long input, long output, Expected expected) throws IOException {
        List<Long> served = requests.stream().filter(RecordedRequest::answered).map(r -> r.usage().totalTokens())
                .toList();
        int k = served.size();
        assertTrue(k > 1, "several calls were served before the refusal: " + served + "\n" + stdout);
        long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = served.stream().mapToLong(Long::longValue).sum();
        assertTrue(before < expected.limit() && all >= expected.limit(),
                "the server must stop exactly when the budget is exhausted: " + served + "\n" + stdout);
        assertEquals(k, lines(stdout, "OK ").size(), stdout::toString);
        List<String> refused = lines(stdout, "REFUSED ");
        assertEquals(1 + ScenarioRunner.EXTRA_TRIES_AFTER_REFUSAL, refused.size(), stdout::toString);
        String message = "REFUSED dev.tokenguard.api.BudgetExhaustedException Token budget 'default' exhausted for"
                + " scope thread:";
        assertTrue(refused.get(0).startsWith(message), refused.get(0));
        assertTrue(refused.get(0).contains(": " + String.format(Locale.ROOT, "%,d", all) + " of "
                + String.format(Locale.ROOT, "%,d", expected.limit()) + " tokens used; refused " + expected.provider()
                + " " + expected.operation() + " " + expected.model() + " loader="), refused.get(0));
        if (expected.bootstrapRefusal()) {
            assertTrue(refused.get(0).endsWith("loader=null"), "the exception is the bootstrap class: " + refused.get(0));
        }

        List<JsonNode> events = events(sessionDir);
        List<JsonNode> calls = of(events, "llm_call");
        assertEquals(k, calls.size());
        assertEquals(input, sum(calls, "input_tokens"));
        assertEquals(output, sum(calls, "output_tokens"));
        assertEquals(all, sum(calls, "total_tokens"));
        for (JsonNode call : calls) {
            assertEquals("provider", call.get("usage_source").asText(), call.toString());
            assertEquals(expected.provider(), call.get("provider").asText());
            assertEquals(expected.operation(), call.get("operation").asText());
            assertEquals(expected.streaming(), call.get("streaming").asBoolean());
            assertEquals("ok", call.get("status").asText());
        }
        assertEquals(List.of(0.75, 0.9, 0.95), of(events, "budget_warning").stream()
                .map(w -> w.get("threshold").asDouble()).toList());
        assertEquals(1 + ScenarioRunner.EXTRA_TRIES_AFTER_REFUSAL, of(events, "budget_exceeded").size());
    }

    private static List<String> lines(List<String> stdout, String prefix) {
        return stdout.stream().filter(l -> l.startsWith(prefix)).toList();
    }

    private static List<JsonNode> events(Path dir) throws IOException {
        List<JsonNode> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList()) {
                for (String line : Files.readAllLines(f)) {
                    all.add(JSON.readTree(line));
                }
            }
        }
        return all;
    }

    private static List<JsonNode> of(List<JsonNode> events, String event) {
        return events.stream().filter(e -> e.path("event").asText().equals(event)).toList();
    }

    private static long sum(List<JsonNode> events, String field) {
        return events.stream().mapToLong(e -> e.path(field).asLong()).sum();
    }
}
