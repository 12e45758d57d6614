package com.acme.tickets;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.core.CallerFrames;
import dev.tokenguard.core.Governor;
import dev.tokenguard.jfr.JfrTelemetry;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.fakesdk.client.FakeClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JFR events, recorded in this JVM and read back from the recording file as JDK Mission Control would. */
class FlightRecorderEventsTest {
    @TempDir
    Path dir;

    /** A governor with one thread-scoped budget of 20 tokens, warned at half, and the JFR sink only. */
    static FakeClient client() {
        BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD,
                20L, null, null, null, null, new double[] {0.5}, EnforcementMode.ENFORCE)), Clock.systemUTC(),
                MdcSource.NONE, SessionListener.NONE);
        return new FakeClient(new Governor(engine, null, JfrTelemetry.create(), Clock.systemUTC(),
                new Governor.Settings(false, false, null, List.of(), null,
                        CallerFrames.forSdks(List.of(FakeClient.MARKER)))));
    }

    int spend(FakeClient client) {
        int line = CallerFramesTest.lineHere(); client.create(); // one line: the call site's
        return line;
    }

    @Test
    void callsWarningsAndRefusalsAreEventsInTheTokenGuardCategory() throws Exception {
        FakeClient before = client();
        before.create(); // before any recording: nothing is recorded
        Path file = dir.resolve("tokenguard.jfr");
        FakeClient client = client();
        String thread = Thread.currentThread().getName() + "#" + Thread.currentThread().getId();
        int line;
        try (Recording recording = new Recording()) {
            recording.enable("dev.tokenguard.LlmCall");
            recording.enable("dev.tokenguard.BudgetWarning");
            recording.enable("dev.tokenguard.BudgetRefusal");
            recording.start();
            line = spend(client);       // 12 of 20 tokens: crosses 50 %
            spend(client);              // 24 of 20: exhausted
            assertThrows(BudgetExhaustedException.class, () -> spend(client));
            recording.stop();
            recording.dump(file);
        }
        assertThrows(BudgetExhaustedException.class, () -> spend(client)); // after the recording: not in it

        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> calls = named(events, "dev.tokenguard.LlmCall");
        List<RecordedEvent> warnings = named(events, "dev.tokenguard.BudgetWarning");
        List<RecordedEvent> refusals = named(events, "dev.tokenguard.BudgetRefusal");
        assertEquals(2, calls.size(), events::toString);
        assertEquals(1, warnings.size(), events::toString);
        assertEquals(1, refusals.size(), events::toString);

        String site = "com.acme.tickets.FlightRecorderEventsTest.spend:" + line;
        for (RecordedEvent call : calls) {
            assertEquals(List.of("TokenGuard", "LLM Calls"), call.getEventType().getCategoryNames());
            assertEquals("LLM Call", call.getEventType().getLabel());
            assertEquals("openai", call.getString("provider"));
            assertEquals("chat", call.getString("operation"));
            assertEquals("gpt-4o", call.getString("requestModel"));
            assertEquals("gpt-4o", call.getString("responseModel"));
            assertEquals(10L, call.getLong("inputTokens"));
            assertEquals(2L, call.getLong("outputTokens"));
            assertTrue(Double.isNaN(call.getDouble("costUsd")), "no price table: not priced");
            assertEquals("thread:" + thread, call.getString("scope"));
            assertEquals("provider", call.getString("usageSource"));
            assertEquals("ok", call.getString("status"));
            assertEquals(site, call.getString("callSite"));
            assertTrue(!call.getDuration().isNegative());
        }

        RecordedEvent warning = warnings.get(0);
        assertEquals(List.of("TokenGuard", "Budgets"), warning.getEventType().getCategoryNames());
        assertEquals("Budget Warning", warning.getEventType().getLabel());
        assertEquals("default", warning.getString("budget"));
        assertEquals("thread:" + thread, warning.getString("scope"));
        assertEquals(0.5, warning.getDouble("threshold"));
        assertEquals(12L, warning.getLong("used"));
        assertEquals(20L, warning.getLong("limit"));
        assertEquals("tokens", warning.getString("unit"));

        RecordedEvent refusal = refusals.get(0);
        assertEquals(List.of("TokenGuard", "Budgets"), refusal.getEventType().getCategoryNames());
        assertEquals("Budget Refusal", refusal.getEventType().getLabel());
        assertEquals("default", refusal.getString("budget"));
        assertEquals(24L, refusal.getLong("used"));
        assertEquals(20L, refusal.getLong("limit"));
        assertEquals("openai", refusal.getString("provider"));
        assertEquals("gpt-4o", refusal.getString("requestModel"));
        assertTrue(refusal.getString("callSite").startsWith("com.acme.tickets.FlightRecorderEventsTest."),
                refusal.getString("callSite"));
    }

    static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }
}
