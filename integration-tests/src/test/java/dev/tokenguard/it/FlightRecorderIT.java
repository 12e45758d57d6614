package dev.tokenguard.it;

import dev.tokenguard.sample.stub.FakeOpenAiServer;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JFR events of a forked JVM under the agent: recorded with {@code -XX:StartFlightRecording} and read back
 * from its file; and, without a recording, not a single event class loaded (nor any class of Jackson databind).
 */
class FlightRecorderIT {
    static final String APP = "dev.tokenguard.it.app.ScenarioApp";

    @TempDir
    Path work;
    FakeOpenAiServer server;

    @BeforeEach
    void start() throws Exception {
        server = FakeOpenAiServer.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aRecordingHasEveryCallWarningAndRefusalAsTokenGuardEvents() throws Exception {
        Path file = work.resolve("app.jfr");
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.max-tokens=900",
                List.of("-XX:StartFlightRecording=filename=" + file + ",settings=default"), Map.of(), APP,
                "sync", server.baseUrl(), "100");
        assertEquals(0, result.exitCode(), result::toString);
        int served = server.requestCount();
        assertTrue(served > 0, result::toString);
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);

        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> calls = named(events, "dev.tokenguard.LlmCall");
        assertEquals(served, calls.size());
        long input = 0;
        long output = 0;
        int line = OtelExportIT.markedLine("call-site: syncChat");
        for (RecordedEvent call : calls) {
            assertEquals(List.of("TokenGuard", "LLM Calls"), call.getEventType().getCategoryNames());
            assertEquals("openai", call.getString("provider"));
            assertEquals("gpt-4o-mini", call.getString("requestModel"));
            assertEquals("dev.tokenguard.it.app.ScenarioApp.syncChat:" + line, call.getString("callSite"));
            assertTrue(call.getString("scope").startsWith("thread:main#"), call.getString("scope"));
            input += call.getLong("inputTokens");
            output += call.getLong("outputTokens");
        }
        assertEquals(server.totalInputTokens(), input, "the fake server's ledger");
        assertEquals(server.totalOutputTokens(), output);

        List<RecordedEvent> warnings = named(events, "dev.tokenguard.BudgetWarning");
        assertEquals(3, warnings.size(), "75, 90 and 95 %");
        assertEquals(List.of(0.75, 0.90, 0.95), warnings.stream().map(w -> w.getDouble("threshold")).sorted().toList());
        List<RecordedEvent> refusals = named(events, "dev.tokenguard.BudgetRefusal");
        assertEquals(3, refusals.size());
        for (RecordedEvent refusal : refusals) {
            assertEquals(900L, refusal.getLong("limit"));
            assertEquals(server.totalTokens(), refusal.getLong("used"), "everything served was charged");
        }
    }

    /**
     * Also the guard of a lean start: in the default configuration nothing in the agent loads Jackson databind (the
     * price table, the requests and the session log are read and written with jackson-core's streaming API); the
     * application's own, unrelocated Jackson is not counted.
     */
    @Test
    void withoutARecordingNoEventClassIsLoadedNorDatabind() throws Exception {
        Path classes = work.resolve("classes.txt");
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.max-tokens=900",
                List.of("-Xlog:class+load=info:file=" + classes), Map.of(), APP, "sync", server.baseUrl(), "100");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(3, result.lines("REFUSED ").size(), result::toString);
        List<String> loaded = Files.readAllLines(classes);
        assertTrue(loaded.stream().anyMatch(l -> l.contains(" dev.tokenguard.jfr.JfrTelemetry ")),
                "the JFR sink itself is there");
        for (String event : List.of("LlmCallEvent", "BudgetWarningEvent", "BudgetRefusalEvent", "JfrEvents")) {
            assertFalse(loaded.stream().anyMatch(l -> l.contains(" dev.tokenguard.jfr." + event + " ")),
                    event + " is not loaded without a recording");
        }
        List<String> agentJackson = loaded.stream()
                .filter(l -> l.contains(" dev.tokenguard.shaded.com.fasterxml.jackson.")).toList();
        assertTrue(agentJackson.stream().anyMatch(l -> l.contains(".jackson.core.JsonGenerator ")),
                "the log names the agent's relocated Jackson classes: " + agentJackson.size());
        assertEquals(List.of(), agentJackson.stream().filter(l -> l.contains(".jackson.databind.")).toList());
    }

    static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }
}
