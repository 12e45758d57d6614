package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SessionReplay} on hand-written session logs: every expected line below is worked out from the fixture. */
class SessionReplayTest {
    static final String ID = "thread:main#1~p4711-lx2k9q1c-1";

    /**
     * A session logged with capture-content: two openai calls (system + user messages, an answer each), a warning at
     * 75 % after the second, a refused third call, the session's end; then a line cut short by a crash.
     */
    static final String CAPTURED = """
            {"ts":"2026-12-01T10:00:00Z","session":"thread:main#1~p4711-lx2k9q1c-1","seq":1,"event":"session_start","scope":"thread:main#1","thread":"main","pid":4711,"agent_version":"0.1.0","service":"tickets"}
            {"ts":"2026-12-01T10:00:01Z","session":"thread:main#1~p4711-lx2k9q1c-1","seq":2,"event":"llm_call","provider":"openai","operation":"chat","request_model":"gpt-4o-mini","response_model":"gpt-4o-mini-2024-07-18","input_tokens":300,"output_tokens":120,"total_tokens":420,"cache_read_tokens":0,"cache_write_tokens":null,"reasoning_tokens":0,"duration_ms":812,"streaming":false,"status":"ok","error_type":null,"cost_usd":0.000117,"usage_source":"provider","budget":[{"name":"default","scope":"thread:main#1","used":420,"limit":1000}],"trace_id":null,"span_id":null,"call_site":"com.acme.tickets.Summarizer.summarize:88","notice_injected":false,"prompt":"{\\"messages\\":[{\\"role\\":\\"system\\",\\"content\\":\\"You summarise tickets.\\"},{\\"role\\":\\"user\\",\\"content\\":\\"Ticket 17: the printer\\\\nis on fire\\"}]}","completion":"Printer fire, urgent."}
            {"ts":"2026-12-01T10:00:02Z","session":"thread:main#1~p4711-lx2k9q1c-1","seq":3,"event":"llm_call","provider":"openai","operation":"chat","request_model":"gpt-4o-mini","response_model":"gpt-4o-mini-2024-07-18","input_tokens":280,"output_tokens":100,"total_tokens":380,"cache_read_tokens":0,"cache_write_tokens":null,"reasoning_tokens":0,"duration_ms":640,"streaming":true,"status":"ok","error_type":null,"cost_usd":0.000102,"usage_source":"provider","budget":[{"name":"default","scope":"thread:main#1","used":800,"limit":1000}],"trace_id":null,"span_id":null,"call_site":"com.acme.tickets.Summarizer.summarize:88","notice_injected":false,"prompt":"{\\"messages\\":[{\\"role\\":\\"user\\",\\"content\\":[{\\"type\\":\\"text\\",\\"text\\":\\"Ticket 18: coffee\\"}]}]}","completion":"Coffee machine broken."}
            {"ts":"2026-12-01T10:00:02Z","session":"thread:main#1~p4711-lx2k9q1c-1","seq":4,"event":"budget_warning","budget":"default","threshold":0.75,"used":800,"limit":1000}
            {"ts":"2026-12-01T10:00:03Z","session":"thread:main#1~p4711-lx2k9q1c-1","seq":5,"event":"budget_exceeded","budget":"default","used":1000,"limit":1000,"provider":"openai","request_model":"gpt-4o-mini","call_site":"com.acme.tickets.Summarizer.summarize:88"}
            {"ts":"2026-12-01T10:00:04Z","session":"thread:main#1~p4711-lx2k9q1c-1","seq":6,"event":"session_end","reason":"thread_end","input_tokens":580,"output_tokens":220,"total_tokens":800,"cost_usd":0.000219}
            {"ts":"2026-12-01T10:00:05Z","session":"thread:main#1~p4711-lx2k9q1c-1","seq":7,"event":"llm_ca""";

    /** A session logged without content: one anthropic call (unpriced), one warning. */
    static final String NO_CONTENT = """
            {"ts":"2026-12-01T11:00:00Z","session":"thread:w#2~p4711-lx2k9q1c-2","seq":1,"event":"session_start","scope":"thread:w#2","thread":"w","pid":4711,"agent_version":"0.1.0"}
            {"ts":"2026-12-01T11:00:01Z","session":"thread:w#2~p4711-lx2k9q1c-2","seq":2,"event":"llm_call","provider":"anthropic","operation":"chat","request_model":"claude-x","response_model":"claude-x","input_tokens":50,"output_tokens":30,"total_tokens":80,"duration_ms":90,"streaming":false,"status":"ok","error_type":null,"cost_usd":null,"usage_source":"estimated","budget":[{"name":"default","scope":"thread:w#2","used":80,"limit":100}],"call_site":"com.acme.W.run:12","notice_injected":false}
            {"ts":"2026-12-01T11:00:01Z","session":"thread:w#2~p4711-lx2k9q1c-2","seq":3,"event":"budget_warning","budget":"default","threshold":0.75,"used":80,"limit":100}
            """;

    @TempDir
    Path tmp;

    final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    PrintStream out;
    PrintStream err;

    @BeforeEach
    void streams() {
        out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
        err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    }

    String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    Path write(String name, String text) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    @Test
    void aCapturedSessionIsPrintedInOrderWithMessagesAnswersAndBudgetEvents() throws IOException {
        Path file = write(SessionLogWriter.fileNameFor(ID), CAPTURED);

        assertEquals(0, SessionReplay.run(ID, tmp, false, out, err), err());

        assertEquals("", err());
        List<String> lines = out().lines().toList();
        List<String> expected = List.of(
                "TokenGuard replay of session " + ID + ": 6 entries, 2 calls",
                "2026-12-01T10:00:00Z  #1  session start: scope thread:main#1, thread main, pid 4711, agent 0.1.0,"
                        + " service tickets",
                "2026-12-01T10:00:01Z  #2  call openai chat gpt-4o-mini (answered by gpt-4o-mini-2024-07-18) at"
                        + " com.acme.tickets.Summarizer.summarize:88",
                "    system: You summarise tickets.",
                "    user: Ticket 17: the printer",
                "      is on fire",
                "    answer: Printer fire, urgent.",
                "    tokens: 300 in, 120 out, 420 total; cost $0.000117; 812 ms; budget 'default' 420 of 1000 tokens",
                "2026-12-01T10:00:02Z  #3  call openai chat gpt-4o-mini (answered by gpt-4o-mini-2024-07-18) at"
                        + " com.acme.tickets.Summarizer.summarize:88, streamed",
                "    user: Ticket 18: coffee",
                "    answer: Coffee machine broken.",
                "    tokens: 280 in, 100 out, 380 total; cost $0.000102; 640 ms; budget 'default' 800 of 1000 tokens",
                "2026-12-01T10:00:02Z  #4  WARNING budget 'default' at 75 %: 800 of 1000 tokens used",
                "2026-12-01T10:00:03Z  #5  REFUSED openai gpt-4o-mini at com.acme.tickets.Summarizer.summarize:88:"
                        + " budget 'default' exhausted, 1000 of 1000 tokens used; the request was not sent",
                "2026-12-01T10:00:04Z  #6  session end (thread_end): 800 tokens (580 in, 220 out), cost $0.000219",
                "",
                "6 entries, 2 calls, read from " + file + "; unreadable lines skipped: 1 (a line cut short by a crash,"
                        + " or not JSON)");
        assertEquals(expected.size(), lines.size(), out());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), lines.get(i), "line " + (i + 1) + " of\n" + out());
        }
    }

    @Test
    void aSessionWithoutContentSaysSoAndPrintsTheCallSequence() throws IOException {
        Path file = write("s.jsonl", NO_CONTENT);

        assertEquals(0, SessionReplay.run(file.toString(), null, false, out, err), err());

        List<String> lines = out().lines().toList();
        List<String> expected = List.of(
                "TokenGuard replay of session thread:w#2~p4711-lx2k9q1c-2: 3 entries, 1 calls",
                "no content captured in this session (the agent logs messages and answers with"
                        + " tokenguard.session-log.capture-content=true); the call sequence:",
                "2026-12-01T11:00:00Z  #1  session start: scope thread:w#2, thread w, pid 4711, agent 0.1.0",
                "2026-12-01T11:00:01Z  #2  call anthropic chat claude-x at com.acme.W.run:12",
                "    tokens: 50 in, 30 out, 80 total (estimated); cost unknown (model not priced); 90 ms;"
                        + " budget 'default' 80 of 100 tokens",
                "2026-12-01T11:00:01Z  #3  WARNING budget 'default' at 75 %: 80 of 100 tokens used",
                "",
                "3 entries, 1 calls, read from " + file + "; unreadable lines skipped: 0");
        assertEquals(expected, lines);
    }

    @Test
    void aDailyFileIsFilteredByTheSessionId() throws IOException {
        // two sessions interleaved in one daily file, as two threads of one process write them
        List<String> a = CAPTURED.lines().toList();
        List<String> b = NO_CONTENT.lines().toList();
        StringBuilder daily = new StringBuilder();
        for (int i = 0; i < Math.max(a.size() - 1, b.size()); i++) {
            if (i < a.size() - 1) {
                daily.append(a.get(i)).append('\n');
            }
            if (i < b.size()) {
                daily.append(b.get(i)).append('\n');
            }
        }
        daily.append("{\"ts\":\"2026-12-01T11:00:09Z\",\"sess"); // cut short by a crash
        Path file = write("tickets.2026-12-01.p4711-lx2k9q1c.jsonl", daily.toString());
        // another process's file: its lines, readable or not, are not this session's
        write("tickets.2026-12-01.p4800-lx2k9q1d.jsonl", "not json\n{\"session\":\"thread:x#3~p4800-lx2k9q1d-1\","
                + "\"seq\":1,\"event\":\"session_start\"}\n");

        assertEquals(0, SessionReplay.run("thread:w#2~p4711-lx2k9q1c-2", tmp, false, out, err), err());

        String text = out();
        assertTrue(text.startsWith("TokenGuard replay of session thread:w#2~p4711-lx2k9q1c-2: 3 entries, 1 calls\n"),
                text);
        assertFalse(text.contains("Summarizer"), "none of the other session's lines: " + text);
        assertTrue(text.contains("  #3  WARNING budget 'default' at 75 %: 80 of 100 tokens used\n"), text);
        assertTrue(text.endsWith("\n3 entries, 1 calls, read from " + file + "; unreadable lines skipped: 1 (a line"
                + " cut short by a crash, or not JSON)\n"), text);
    }

    @Test
    void theWholeDailyFileGivenByPathPrintsEachSessionInTurn() throws IOException {
        Path file = write("tickets.2026-12-01.p4711-lx2k9q1c.jsonl", NO_CONTENT + CAPTURED);

        assertEquals(0, SessionReplay.run(file.toString(), null, false, out, err), err());

        List<String> headers = out().lines().filter(l -> l.startsWith("TokenGuard replay of session")).toList();
        assertEquals(List.of("TokenGuard replay of session thread:w#2~p4711-lx2k9q1c-2: 3 entries, 1 calls",
                "TokenGuard replay of session " + ID + ": 6 entries, 2 calls"), headers);
        assertTrue(out().endsWith("9 entries, 3 calls, read from " + file + "; unreadable lines skipped: 1 (a line"
                + " cut short by a crash, or not JSON)\n"), out());
    }

    @Test
    void jsonPrintsOneObjectPerEntryWithStableKeysThenASummary() throws IOException {
        write(SessionLogWriter.fileNameFor(ID), CAPTURED);

        assertEquals(0, SessionReplay.run(ID, tmp, true, out, err), err());

        ObjectMapper mapper = new ObjectMapper();
        List<JsonNode> objects = new ArrayList<>();
        for (String line : out().lines().toList()) {
            objects.add(mapper.readTree(line));
        }
        assertEquals(7, objects.size(), out());
        List<String> events = objects.stream().map(o -> o.get("event").asText()).toList();
        assertEquals(List.of("session_start", "llm_call", "llm_call", "budget_warning", "budget_exceeded",
                "session_end", "replay_summary"), events);
        for (JsonNode o : objects.subList(0, 6)) {
            List<String> keys = new ArrayList<>(List.of("ts", "session", "seq", "event"));
            keys.addAll(SessionReplay.JSON_KEYS.get(o.get("event").asText()));
            assertEquals(keys, names(o), o.toString());
            assertEquals(ID, o.get("session").asText());
        }
        JsonNode first = objects.get(1);
        assertEquals(2, first.get("messages").size());
        assertEquals("system", first.get("messages").get(0).get("role").asText());
        assertEquals("You summarise tickets.", first.get("messages").get(0).get("text").asText());
        assertEquals("user", first.get("messages").get(1).get("role").asText());
        assertEquals("Ticket 17: the printer\nis on fire", first.get("messages").get(1).get("text").asText());
        assertEquals("Printer fire, urgent.", first.get("answer").asText());
        assertEquals(420, first.get("total_tokens").asLong());
        assertEquals(0.000117, first.get("cost_usd").asDouble());
        assertTrue(out().lines().toList().get(1).contains("\"cost_usd\":0.000117,"), "plain notation, as logged");
        assertTrue(first.get("content_captured").asBoolean());
        assertFalse(first.has("prompt"), "the raw prompt is replaced by messages");
        JsonNode refusal = objects.get(4);
        assertEquals(1000, refusal.get("limit").asLong());
        assertTrue(refusal.get("unit").isNull(), "a token limit has no unit");
        JsonNode summary = objects.get(6);
        assertEquals(6, summary.get("entries").asInt());
        assertEquals(2, summary.get("calls").asInt());
        assertEquals(2, summary.get("content_captured_calls").asInt());
        assertEquals(1, summary.get("unreadable_lines_skipped").asInt());
        assertEquals(ID, summary.get("sessions").get(0).asText());
    }

    @Test
    void anUnknownIdNamesTheDirectoryAndTheNearestIds() throws IOException {
        write(SessionLogWriter.fileNameFor(ID), CAPTURED);
        write("w.jsonl", NO_CONTENT);

        assertEquals(2, SessionReplay.run("thread:main#1~p4711-lx2k9q1c-9", tmp, false, out, err));

        assertEquals("", out());
        assertEquals("tokenguard replay: no session 'thread:main#1~p4711-lx2k9q1c-9' in " + tmp + " (2 session(s)"
                + " there; nearest: " + ID + ", thread:w#2~p4711-lx2k9q1c-2); `report " + tmp + "` lists every"
                + " session, or give the path of a session-log file\n", err());
    }

    @Test
    void aMissingDirectoryIsOneClearLine() {
        Path missing = tmp.resolve("nowhere");

        assertEquals(2, SessionReplay.run("some-session", missing, false, out, err));

        assertEquals("", out());
        List<String> lines = err().lines().toList();
        assertEquals(1, lines.size(), err());
        assertTrue(lines.get(0).contains("'some-session' is not a file, and the session-log directory " + missing
                + " to look the session id up in does not exist"), lines.get(0));
    }

    @Test
    void anthropicPromptsAndPromptsCutAtTheCaptureLimit() {
        JsonNode anthropic = json("{\"prompt\":" + quoted("{\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\"}],"
                + "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"},"
                + "{\"type\":\"image\",\"source\":{}}]},{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
                + "\"name\":\"lookup\",\"input\":{\"q\":1}}]}]}") + "}");
        assertEquals(List.of(new SessionReplay.Message("system", "Be brief."),
                new SessionReplay.Message("user", "Hi\n[image]"),
                new SessionReplay.Message("assistant", "[calls lookup {\"q\":1}]")), SessionReplay.messages(anthropic));

        JsonNode responses = json("{\"prompt\":" + quoted("{\"instructions\":\"Answer in French.\",\"input\":\"Hello\"}")
                + "}");
        assertEquals(List.of(new SessionReplay.Message("instructions", "Answer in French."),
                new SessionReplay.Message("user", "Hello")), SessionReplay.messages(responses));

        String cut = "{\"messages\":[{\"role\":\"user\",\"content\":\"aaaa...[truncated by TokenGuard: 9000 chars in"
                + " total]";
        assertEquals(List.of(new SessionReplay.Message("prompt", cut)),
                SessionReplay.messages(json("{\"prompt\":" + quoted(cut) + "}")));

        assertEquals(null, SessionReplay.messages(json("{\"completion\":\"only the answer\"}")));
    }

    @Test
    void whatTheWriterLogsReadsBack() throws IOException {
        Session s = new Session(ID, "thread:main#1", "main");
        CallRecord r = new CallRecord("openai", "chat", "gpt-4o", "gpt-4o", null, 10L, 5L, null, null, null,
                SessionLogWriterTest.NOW, 2_000_000L, false, null, UsageSource.PROVIDER, null, null, null, 0.0001);
        try (SessionLogWriter w = new SessionLogWriter(tmp, "v", 1,
                Clock.fixed(SessionLogWriterTest.NOW, ZoneOffset.UTC), line -> { })) {
            w.sessionStart(s);
            w.llmCall(s, r, List.of(new BudgetState("default", "thread:main#1", 15, 100)), null, null,
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\"}]}", "4");
        }

        assertEquals(0, SessionReplay.run(ID, tmp, false, out, err), err());

        List<String> lines = out().lines().toList();
        assertEquals(8, lines.size(), out());
        assertEquals("    user: 2+2?", lines.get(3));
        assertEquals("    answer: 4", lines.get(4));
        assertTrue(lines.get(5).startsWith("    tokens: 10 in, 5 out, 15 total; cost $0.000100; 2 ms;"
                + " budget 'default' 15 of 100 tokens"), lines.get(5));
    }

    @Test
    void readmeDocumentsTheJsonKeysOfEachEvent() throws IOException {
        // Maven runs tests in the module directory; the README is at the repository root
        String readme = Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("## Replay a session");
        assertTrue(section >= 0, "README.md has a 'Replay a session' section");
        String text = readme.substring(section, readme.indexOf("\n## ", section + 1));
        java.util.Map<String, List<String>> documented = new java.util.LinkedHashMap<>();
        java.util.regex.Matcher row = java.util.regex.Pattern.compile("(?m)^\\| `([a-z_]+)` \\| (.+) \\|$")
                .matcher(text);
        while (row.find()) {
            if (row.group(1).equals("event")) {
                continue; // the header
            }
            List<String> keys = new ArrayList<>();
            // each key is the first back-quoted word of an item, e.g. `messages` (`[...]`, `null` when ...)
            for (String item : topLevelItems(row.group(2))) {
                java.util.regex.Matcher key = java.util.regex.Pattern.compile("^`([a-z_]+)`").matcher(item);
                assertTrue(key.find(), item);
                keys.add(key.group(1));
            }
            documented.put(row.group(1), keys);
        }
        java.util.regex.Matcher summary = java.util.regex.Pattern.compile("\\{\"event\": \"replay_summary\", ([^}]+)}")
                .matcher(text.replace("\n", " "));
        assertTrue(summary.find(), "README.md shows the replay_summary object");
        List<String> summaryKeys = new ArrayList<>();
        for (String key : summary.group(1).split(",\\s*")) {
            summaryKeys.add(key.replace("\"", "").trim());
        }
        documented.put("replay_summary", summaryKeys);

        assertEquals(SessionReplay.JSON_KEYS.size(), documented.size(), documented.toString());
        for (String event : SessionReplay.JSON_KEYS.keySet()) {
            assertEquals(SessionReplay.JSON_KEYS.get(event), documented.get(event), event);
        }
    }

    /** The comma-separated items of a table cell, commas inside parentheses not counted. */
    private static List<String> topLevelItems(String cell) {
        List<String> items = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < cell.length(); i++) {
            char c = cell.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                items.add(cell.substring(start, i).trim());
                start = i + 1;
            }
        }
        items.add(cell.substring(start).trim());
        return items;
    }

    private static List<String> names(JsonNode o) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    private static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String quoted(String text) {
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(text).toString();
    }
}
