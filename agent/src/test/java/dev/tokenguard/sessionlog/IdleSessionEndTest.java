package dev.tokenguard.sessionlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.Session;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The session log as the agent runs it, when the engine releases an idle {@code mdc:} value or thread. */
class IdleSessionEndTest {
    static final long IDLE = Duration.ofMinutes(15).toMillis();

    @TempDir
    Path tmp;

    @Test
    void anIdleValueEndsItsSessionWithReasonIdleAndItsFileIsClosed() throws Exception {
        TestClock clock = new TestClock("2026-11-25T18:00:00Z");
        List<String> errors = new ArrayList<>();
        String[] tenant = {"acme"};
        try (SessionLogWriter log = new SessionLogWriter(tmp, "1.2.3", 4242L, clock, errors::add)) {
            BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME,
                    ScopeSpec.mdc("tenant"), 1000L, null, null, null, null, new double[] {0.75},
                    EnforcementMode.ENFORCE)), clock, key -> tenant[0], log.sessionListener());
            CallScope first = engine.enter();
            assertNull(engine.check(first));
            engine.charge(first, 600, 400, null);
            Session firstSession = first.session();
            assertEquals(1, log.openFileCount());

            clock.set("2026-11-25T18:15:00Z");
            assertEquals(1, engine.releaseIdle(IDLE));
            assertEquals(0, log.openFileCount(), "the idle session's file is closed");
            List<JsonNode> lines = SessionLogWriterTest.lines(tmp.resolve(SessionLogWriter.fileNameFor(firstSession.id())));
            assertEquals(2, lines.size());
            assertEquals("session_start", lines.get(0).get("event").asText());
            JsonNode end = lines.get(1);
            assertEquals("session_end", end.get("event").asText());
            assertEquals("idle", end.get("reason").asText());
            assertEquals(600, end.get("input_tokens").asLong());
            assertEquals(400, end.get("output_tokens").asLong());
            assertEquals(1000, end.get("total_tokens").asLong());

            clock.set("2026-11-25T19:00:00Z");
            CallScope again = engine.enter();
            Refusal refused = engine.check(again);
            assertNotNull(refused, "the 1000 tokens used before the release still count");
            assertEquals(1000, refused.used());
            Session next = again.session();
            assertNotEquals(firstSession.id(), next.id());
            assertEquals(1, log.openFileCount(), "the value's next call opened a new session's file");
            engine.close();
            assertEquals(0, log.openFileCount());
            List<JsonNode> nextLines = SessionLogWriterTest.lines(tmp.resolve(SessionLogWriter.fileNameFor(next.id())));
            assertEquals(2, nextLines.size());
            assertEquals("shutdown", nextLines.get(1).get("reason").asText());
            assertEquals(0, nextLines.get(1).get("total_tokens").asLong());
        }
        assertEquals(List.of(), errors);
    }

    @Test
    void anIdleThreadEndsItsSessionWithReasonIdleAndItsNextCallOpensANewFile() throws Exception {
        TestClock clock = new TestClock("2026-11-25T18:00:00Z");
        List<String> errors = new ArrayList<>();
        try (SessionLogWriter log = new SessionLogWriter(tmp, "1.2.3", 4242L, clock, errors::add)) {
            BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME,
                    ScopeSpec.THREAD, 1000L, null, null, null, null, new double[] {0.75},
                    EnforcementMode.ENFORCE)), clock, key -> null, log.sessionListener());
            CallScope first = engine.enter();
            assertNull(engine.check(first));
            engine.charge(first, 700, 300, null);
            Session firstSession = first.session();
            assertEquals(1, log.openFileCount());

            clock.set("2026-11-25T18:15:00Z");
            assertEquals(1, engine.releaseIdle(IDLE), "this thread, alive and without a call for 15 minutes");
            assertEquals(0, log.openFileCount(), "the idle session's file is closed");
            List<JsonNode> lines = SessionLogWriterTest.lines(tmp.resolve(SessionLogWriter.fileNameFor(firstSession.id())));
            assertEquals(2, lines.size());
            assertEquals("session_start", lines.get(0).get("event").asText());
            JsonNode end = lines.get(1);
            assertEquals("session_end", end.get("event").asText());
            assertEquals("idle", end.get("reason").asText());
            assertEquals(700, end.get("input_tokens").asLong());
            assertEquals(300, end.get("output_tokens").asLong());
            assertEquals(1000, end.get("total_tokens").asLong());

            clock.set("2026-11-25T19:00:00Z");
            CallScope again = engine.enter();
            assertEquals(first.scopeKey(), again.scopeKey());
            Refusal refused = engine.check(again);
            assertNotNull(refused, "the 1000 tokens used before the release still count");
            assertEquals(1000, refused.used());
            Session next = again.session();
            assertNotEquals(firstSession.id(), next.id());
            assertEquals(1, log.openFileCount(), "the thread's next call opened a new session's file");
            engine.close();
            assertEquals(0, log.openFileCount());
            List<JsonNode> nextLines = SessionLogWriterTest.lines(tmp.resolve(SessionLogWriter.fileNameFor(next.id())));
            assertEquals(2, nextLines.size());
            assertEquals("session_start", nextLines.get(0).get("event").asText());
            assertEquals("shutdown", nextLines.get(1).get("reason").asText());
            assertEquals(0, nextLines.get(1).get("total_tokens").asLong());
        }
        assertEquals(List.of(), errors);
    }
}
