package dev.tokenguard.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.LimitKind;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.ThresholdCrossing;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The governor without any SDK: what reaches the log and the budget for the usage it is given. */
class GovernorTest {
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
        engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000L, null, null,
                null, null, new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE)), Clock.systemUTC(),
                MdcSource.NONE, log.sessionListener());
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        engine.close();
        log.close();
    }

    List<JsonNode> calls() throws Exception {
        return SessionLogEvents.of(dir, "llm_call");
    }

    LlmCall begin() {
        Object started = governor.begin(new CallRequest("openai", "chat", "gpt-4o", false, null, null));
        assertTrue(started instanceof LlmCall, String.valueOf(started));
        return (LlmCall) started;
    }

    @Test
    void absurdCountsThatReachTheGovernorAreLoggedWithoutThemAndChargeNothing() throws Exception {
        begin().finish(new Usage(-5L, 10L, null, null, null, "gpt-4o", "id-1", List.of(), UsageSource.PROVIDER));
        begin().finish(new Usage(Long.MAX_VALUE, 1L, null, null, null, "gpt-4o", "id-2", List.of(),
                UsageSource.PROVIDER));
        begin().finish(new Usage(100L, 20L, null, null, null, "gpt-4o", "id-3", List.of(), UsageSource.PROVIDER));
        List<JsonNode> calls = calls();
        assertEquals(3, calls.size(), calls::toString);
        assertTrue(calls.get(0).get("input_tokens").isNull(), calls.get(0).toString());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertTrue(calls.get(1).get("input_tokens").isNull(), calls.get(1).toString());
        assertEquals(120, calls.get(2).get("total_tokens").asLong());
        assertEquals(120, calls.get(2).get("budget").get(0).get("used").asLong(), "only the sane call was charged");
    }

    @Test
    void usageProblemsAreNamed() {
        assertEquals(null, new Usage(1L, 2L, 0L, 0L, 0L, null, null, null, null).problem(true));
        assertEquals(null, new Usage(1L, null, null, null, null, null, null, null, null).problem(false));
        assertEquals("no input token count", new Usage(null, 2L, null, null, null, null, null, null, null).problem(true));
        assertEquals("no output token count", new Usage(1L, null, null, null, null, null, null, null, null).problem(true));
        assertEquals("a negative count (-3)", new Usage(1L, 2L, -3L, null, null, null, null, null, null).problem(true));
        assertEquals("counts that overflow when added",
                new Usage(Long.MAX_VALUE, 2L, null, null, null, null, null, null, null).problem(true));
    }

    @Test
    void theBudgetNoteStartsWithTokenGuardAndSaysTheLevelInWords() {
        assertEquals("[TokenGuard] Budget note: 75% of this conversation's budget is used (7,512 of 10,000 tokens"
                        + " used, 2,488 left). Keep answers concise.",
                Governor.notice(new ThresholdCrossing("default", "thread:t#1", 0.75, 7_512, 10_000)));
        assertEquals("[TokenGuard] Budget critical: 90% of this conversation's budget is used (9,000 of 10,000 tokens"
                        + " used, 1,000 left). Wrap up: keep answers short and bring the task to an end.",
                Governor.notice(new ThresholdCrossing("default", "thread:t#1", 0.90, 9_000, 10_000)));
        assertEquals("[TokenGuard] Budget final: 95% of this conversation's budget is used (9,990 of 10,000 tokens"
                        + " used, 10 left). The next request may be refused: finish now with what you have.",
                Governor.notice(new ThresholdCrossing("default", "thread:t#1", 0.95, 9_990, 10_000)));
        assertEquals("[TokenGuard] Budget critical: 91% of this conversation's budget is used ($0.9100 of $1.0000"
                        + " used, $0.0900 left). Wrap up: keep answers short and bring the task to an end.",
                Governor.notice(new ThresholdCrossing("cost", "thread:t#1", 0.91, 910_000_000L, 1_000_000_000L,
                        LimitKind.COST_NANO_USD)));
    }
}
