package dev.tokenguard.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calls still in flight when the JVM shuts down are logged and charged with what is known of them. */
class GovernorShutdownTest {
    @TempDir
    Path dir;
    BudgetEngine engine;
    SessionLogWriter log;
    Governor governor;

    @BeforeEach
    void start() {
        log = new SessionLogWriter(dir, "test", 1, Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 100_000L, null,
                null, null, null, new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE)), Clock.systemUTC(),
                MdcSource.NONE, log.sessionListener());
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        engine.close();
        log.close();
    }

    private LlmCall begin(Long outputCap) {
        Object started = governor.begin(new CallRequest("openai", "chat", "gpt-4o", true, null, null, outputCap, (String) null));
        assertTrue(started instanceof LlmCall, String.valueOf(started));
        return (LlmCall) started;
    }

    @Test
    void theCallsInFlightAreChargedWhatIsKnownOfThemAndTheOthersAreLeftAlone() throws Exception {
        LlmCall streaming = begin(50L);
        streaming.usageSoFar(() -> new Usage(12L, 3L, null, null, null, null, null, List.of(), UsageSource.ESTIMATED));
        LlmCall waiting = begin(40L);
        LlmCall done = begin(30L);
        done.finish(new Usage(5L, 6L, null, null, null, "gpt-4o", "id-1", List.of("stop"), UsageSource.PROVIDER));

        assertEquals(2, governor.finishInFlight());
        assertEquals(0, governor.finishInFlight(), "each call ends once");
        assertTrue(streaming.isFinished() && waiting.isFinished());

        List<JsonNode> calls = SessionLogEvents.of(dir, "llm_call");
        assertEquals(3, calls.size(), calls::toString);
        // the finished call first, then the two in flight in either order
        assertEquals(11, calls.get(0).get("total_tokens").asLong());
        assertEquals("provider", calls.get(0).get("usage_source").asText());
        long streamed = 0;
        long reserved = 0;
        for (JsonNode call : calls.subList(1, 3)) {
            assertEquals("error", call.get("status").asText(), call.toString());
            assertEquals(InFlightAtShutdown.class.getName(), call.get("error_type").asText());
            assertEquals("estimated", call.get("usage_source").asText());
            if (call.get("input_tokens").asLong() == 12) {
                streamed = call.get("total_tokens").asLong();
            } else {
                reserved = call.get("total_tokens").asLong();
            }
        }
        assertEquals(15, streamed, "the stream's text so far");
        // no prompt text: nothing reserved for input; the output cap for output
        assertEquals(40, reserved);
        assertEquals(11 + 15 + 40, calls.get(2).get("budget").get(0).get("used").asLong(), "all three charged");
    }
}
