package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.Session;
import dev.tokenguard.budget.SessionListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lines encoded by reused encoders: timestamps across seconds and days, budgets read from a charge. */
class SessionLogLineEncodingTest {

    @TempDir
    Path tmp;

    final List<String> errors = new CopyOnWriteArrayList<>();

    /** A clock that returns the given instants one after another. */
    static final class StepClock extends Clock {
        private final Instant[] instants;
        private int next;

        StepClock(Instant... instants) {
            this.instants = instants;
        }

        @Override
        public Instant instant() {
            return instants[Math.min(next++, instants.length - 1)];
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @Test
    void everyTimestampIsTheInstantInUtcWithMillisecondsAcrossSecondsAndDays() throws IOException {
        Instant[] instants = {
                Instant.parse("2026-11-25T18:20:00.123Z"),
                Instant.parse("2026-11-25T18:20:00.999Z"), // same second, other millis
                Instant.parse("2026-11-25T18:20:01.004Z"), // next second
                Instant.parse("2026-11-25T23:59:59.999Z"),
                Instant.parse("2026-11-26T00:00:00.000Z"), // next day
                Instant.parse("2028-02-29T07:08:09.010Z"), // leap day
                Instant.parse("1999-12-31T23:59:59.500Z"), // back in time: a new second again
        };
        SessionLogWriter w = new SessionLogWriter(tmp, "1", 1, new StepClock(instants), errors::add);
        Session s = new Session("plain-id", "global", "main");
        for (int i = 0; i < instants.length; i++) {
            w.budgetWarning(s, "default", 0.75, i, 100);
        }
        w.close();
        List<JsonNode> lines = SessionLogWriterTest.lines(tmp.resolve(SessionLogWriter.fileNameFor(s.id())));
        assertEquals(instants.length, lines.size());
        DateTimeFormatter oracle = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
                .withZone(ZoneOffset.UTC);
        for (int i = 0; i < instants.length; i++) {
            assertEquals(oracle.format(instants[i]), lines.get(i).get("ts").asText(), "line " + (i + 1));
            assertEquals(i + 1, lines.get(i).get("seq").asLong());
            assertEquals(i, lines.get(i).get("used").asLong());
        }
        assertEquals(List.of(), errors);
    }

    @Test
    void aLineLongerThanTheBufferAndTheShortLineAfterItAreBothWhole() throws IOException {
        SessionLogWriter w = new SessionLogWriter(tmp, "1", 1, Clock.fixed(SessionLogWriterTest.NOW, ZoneOffset.UTC),
                errors::add);
        Session s = new Session("long-lines", "global", "main");
        String longPrompt = "x".repeat(3_000); // beyond the encoder's first 1 KB
        w.llmCall(s, SessionLogWriterTest.fullCall(), List.of(), null, null, longPrompt, "done");
        w.llmCall(s, SessionLogWriterTest.fullCall(), List.of(), null, null, null, null);
        w.close();
        List<JsonNode> lines = SessionLogWriterTest.lines(tmp.resolve(SessionLogWriter.fileNameFor(s.id())));
        assertEquals(2, lines.size());
        assertEquals(longPrompt, lines.get(0).get("prompt").asText());
        assertTrue(lines.get(1).get("prompt") == null, "the second line has no prompt: nothing of the first is left");
        assertEquals("0.0125", lines.get(1).get("cost_usd").asText());
        assertEquals(List.of(), errors);
    }

    @Test
    void budgetsReadFromTheChargeAreWrittenAsTheStatesWouldBe() throws IOException {
        BudgetSpec total = new BudgetSpec("default", ScopeSpec.THREAD, 1_000L, null, null, null, null,
                new double[] {0.75}, EnforcementMode.ENFORCE);
        BudgetSpec output = new BudgetSpec("answers", ScopeSpec.THREAD, null, null, 500L, null, null,
                new double[] {0.75}, EnforcementMode.ENFORCE);
        BudgetEngine engine = new BudgetEngine(List.of(total, output), Clock.systemUTC(), key -> null,
                SessionListener.NONE);
        CallScope scope = engine.enter();
        ChargeResult charge = engine.charge(scope, 60, 40, null);
        SessionLogWriter w = new SessionLogWriter(tmp, "1", 1, Clock.fixed(SessionLogWriterTest.NOW, ZoneOffset.UTC),
                errors::add);
        Session s = scope.session();
        w.llmCall(s, SessionLogWriterTest.fullCall(), charge, null, null, null, null, false);
        w.close();
        List<JsonNode> lines = SessionLogWriterTest.lines(tmp.resolve(SessionLogWriter.fileNameFor(s.id())));
        assertEquals(1, lines.size());
        JsonNode budget = lines.get(0).get("budget");
        assertEquals(2, budget.size());
        // by hand: 60 + 40 of the total limit 1,000; 40 output tokens of the output limit 500
        assertEquals("default", budget.get(0).get("name").asText());
        assertEquals(100, budget.get(0).get("used").asLong());
        assertEquals(1_000, budget.get(0).get("limit").asLong());
        assertEquals("answers", budget.get(1).get("name").asText());
        assertEquals(40, budget.get(1).get("used").asLong());
        assertEquals(500, budget.get(1).get("limit").asLong());
        assertEquals(scope.scopeKey(), budget.get(1).get("scope").asText());
        engine.close();
    }
}
