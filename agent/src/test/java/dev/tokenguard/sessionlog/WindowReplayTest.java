package dev.tokenguard.sessionlog;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The restart replay over both layouts, other services, other windows, odd and cut-off lines, and its seeding. */
class WindowReplayTest {
    static final String NOW = "2026-12-01T15:00:00Z";
    static final long NOW_MILLIS = Instant.parse(NOW).toEpochMilli();

    @TempDir
    Path dir;

    final List<String> errors = new CopyOnWriteArrayList<>();

    static BudgetSpec budget(String name, ScopeSpec scope, long maxTokens, Duration window) {
        return new BudgetSpec(name, scope, maxTokens, null, null, null, window, new double[0],
                EnforcementMode.ENFORCE);
    }

    /** default: global, 1,000 tokens a day; tenant: mdc:tenant, 500 a day; hourly: global, 1h; thread: per thread, daily. */
    static final List<BudgetSpec> BUDGETS = List.of(
            budget(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL, 1_000, Duration.ofDays(1)),
            budget("tenant", ScopeSpec.mdc("tenant"), 500, Duration.ofDays(1)),
            budget("hourly", ScopeSpec.GLOBAL, 10_000, Duration.ofHours(1)),
            budget("perthread", ScopeSpec.THREAD, 10_000, Duration.ofDays(1)),
            budget("forever", ScopeSpec.GLOBAL, 10_000, null));

    SessionLogWriter writer(TestClock clock, LogLayout layout, String service, String process) {
        return new SessionLogWriter(dir, "1.0", 7, clock, errors::add,
                new SessionLogWriter.Settings(layout, service, process, null, -1));
    }

    static CallRecord call(long input, long output, Double cost) {
        return new CallRecord("openai", "chat", "gpt-4o", "gpt-4o", "r", input, output, null, null, null,
                Instant.EPOCH, 1_000_000L, false, null, UsageSource.PROVIDER, List.of(), null, null, cost);
    }

    /** A call charged to every budget but the hourly one, as the engine would list them. */
    static List<BudgetState> states(String tenant) {
        return List.of(new BudgetState("default", "global", 0, 1000),
                new BudgetState("tenant", tenant == null ? "thread:w#9" : "mdc:tenant=" + tenant, 0, 500),
                new BudgetState("perthread", "thread:w#9", 0, 10_000),
                new BudgetState("forever", "global", 0, 10_000));
    }

    static WindowReplay.Usage usage(WindowReplay.Result r, String budget, String scope) {
        Map<String, WindowReplay.Usage> byScope = r.usage().get(budget);
        return byScope == null ? null : byScope.get(scope);
    }

    WindowReplay.Result replay(String service) {
        return WindowReplay.read(dir, service, WindowReplay.targets(BUDGETS, NOW_MILLIS), NOW_MILLIS, () -> false);
    }

    @Test
    void countsTheCurrentWindowOfThisServiceFromBothLayoutsOnly() throws Exception {
        TestClock clock = new TestClock("2026-11-30T23:00:00Z");
        Session g = new Session("global~p1-a-1", "global", "main");
        try (SessionLogWriter w = writer(clock, LogLayout.SESSION, "svc", "p1-a")) {
            w.sessionStart(g);
            w.llmCall(g, call(1000, 1000, 1.0), states("acme"), null, null, null, null); // yesterday: not counted
            clock.set("2026-12-01T00:00:00.000Z");
            w.llmCall(g, call(100, 20, 0.5), states("acme"), null, null, null, null);
            clock.set("2026-12-01T14:10:00Z");
            w.llmCall(g, call(30, 5, null), states(null), null, null, null, null);
        }
        clock.set("2026-12-01T14:30:00Z");
        Session d = new Session("thread:x#3~p2-b-1", "thread:x#3", "x");
        try (SessionLogWriter w = writer(clock, LogLayout.DAILY, "svc", "p2-b")) {
            w.sessionStart(d);
            w.llmCall(d, call(200, 40, 0.25), states("acme"), null, null, null, null);
            w.llmCall(d, call(7, 3, null), states("globex"), null, null, null, null);
            clock.set(NOW); // a line at the replay's own start belongs to the new process: not counted
            w.llmCall(d, call(5000, 5000, null), states("acme"), null, null, null, null);
        }
        clock.set("2026-12-01T14:45:00Z");
        for (String other : List.of("other", "svc2")) {
            Session o = new Session("global~p3-" + other + "-1", "global", "main");
            try (SessionLogWriter w = writer(clock, LogLayout.SESSION, other, "p3-c")) {
                w.sessionStart(o);
                w.llmCall(o, call(900, 900, null), states("acme"), null, null, null, null);
            }
            Session od = new Session("global~p4-" + other + "-1", "global", "main");
            try (SessionLogWriter w = writer(clock, LogLayout.DAILY, other, "p4-" + other.length())) {
                w.sessionStart(od);
                w.llmCall(od, call(900, 900, null), states("acme"), null, null, null, null);
            }
        }
        // a file from before lines named their service: left alone
        Files.writeString(dir.resolve("global_p5-e-1-h0123456789abcdef.jsonl"),
                "{\"ts\":\"2026-12-01T10:00:00.000Z\",\"session\":\"global~p5-e-1\",\"seq\":1,\"event\":\"llm_call\","
                        + "\"input_tokens\":800,\"output_tokens\":0,\"cost_usd\":null,"
                        + "\"budget\":[{\"name\":\"default\",\"used\":800,\"limit\":1000}]}\n");

        WindowReplay.Result r = replay("svc");

        // by hand, this service since midnight: 100+20, 30+5, 200+40, 7+3 on the global default budget
        assertEquals(new WindowReplay.Usage(4, 100 + 30 + 200 + 7, 20 + 5 + 40 + 3, 750_000_000L),
                usage(r, "default", "global"));
        assertEquals(new WindowReplay.Usage(2, 300, 60, 750_000_000L), usage(r, "tenant", "mdc:tenant=acme"));
        assertEquals(new WindowReplay.Usage(1, 7, 3, 0), usage(r, "tenant", "mdc:tenant=globex"));
        assertEquals(2, r.usage().get("tenant").size(), "thread fallbacks of an mdc: budget are not restored");
        assertNull(r.usage().get("perthread"), "thread scopes are never restored");
        assertNull(r.usage().get("forever"), "budgets without a window are not restored");
        assertNull(r.usage().get("hourly"), "no line named the hourly budget");
        assertEquals(2, r.files(), "this service's two files (the others' and the old one are skipped)");
        assertEquals(4, r.calls());
        assertEquals(0, r.unreadableLines());
        assertEquals(0, r.parsedWhole(), "every line the writer wrote is read by the narrow scanner");
        assertTrue(r.fileErrors().isEmpty(), r.fileErrors()::toString);
        assertFalse(r.cancelled());
        assertTrue(errors.isEmpty(), errors::toString);

        WindowReplay.Result other = replay("other");
        assertEquals(new WindowReplay.Usage(2, 1800, 1800, 0), usage(other, "default", "global"));
    }

    @Test
    void cutOffLinesOtherKeyOrdersAndEscapesAreHandled() throws Exception {
        Path file = dir.resolve("svc.2026-12-01.p1-a.jsonl");
        String ts = "\"ts\":\"2026-12-01T09:00:00.000Z\"";
        String whole = "{" + ts + ",\"session\":\"global~p1-a-1\",\"seq\":2,\"event\":\"llm_call\",\"provider\":\"openai\","
                + "\"input_tokens\":10,\"output_tokens\":1,\"total_tokens\":11,\"cost_usd\":0.001,"
                + "\"budget\":[{\"name\":\"default\",\"scope\":\"global\",\"used\":11,\"limit\":1000}],"
                + "\"trace_id\":null,\"call_site\":\"a.B.c:1\",\"prompt\":\"}{\\\"x\\\"]\",\"notice_injected\":false}";
        String reordered = "{\"event\":\"llm_call\"," + ts + ",\"output_tokens\":2,\"input_tokens\":20,"
                + "\"budget\":[{\"limit\":500,\"scope\":\"mdc:tenant=a\\\"b\\\\c\",\"name\":\"tenant\",\"used\":1}],"
                + "\"cost_usd\":null}";
        String spaced = "{ " + ts + " , \"event\" : \"llm_call\" , \"input_tokens\" : 40 , \"output_tokens\" : 4 ,"
                + " \"cost_usd\" : null , \"budget\" : [ { \"name\" : \"default\" , \"scope\" : \"global\" } ] }";
        // cut inside the prompt after a '}' (looks whole to a careless reader), cut inside the budget entries,
        // and a crash's last line without its newline
        String cutInString = whole.substring(0, whole.indexOf("}{") + 1);
        String cutInBudget = whole.substring(0, whole.indexOf("\"used\":11"));
        Files.writeString(file, String.join("\n", whole, cutInString, reordered, "garbage", cutInBudget, spaced,
                whole.substring(0, whole.length() - 1)), StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);

        WindowReplay.Result r = replay("svc");

        // by hand: the whole line (10+1) and the spaced one (40+4) on default; the reordered one (20+2) on the
        // tenant "a\"b\\c"; the two cut-off lines, the garbage and the unterminated last line are skipped
        assertEquals(new WindowReplay.Usage(2, 50, 5, 1_000_000L), usage(r, "default", "global"));
        assertEquals(new WindowReplay.Usage(1, 20, 2, 0), usage(r, "tenant", "mdc:tenant=a\"b\\c"));
        assertEquals(4, r.unreadableLines());
        assertEquals(7, r.lines());
        assertEquals(6, r.parsedWhole(), "all but the first, whole, line as written");
    }

    @Test
    void theReplayCommandPrintsWhatARestartWouldStartFrom() throws Exception {
        countsTheCurrentWindowOfThisServiceFromBothLayoutsOnly(); // the same directory
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        assertEquals(0, ReplayReport.run(dir, "svc", BUDGETS, NOW_MILLIS,
                new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
                new java.io.PrintStream(err, true, StandardCharsets.UTF_8)));
        String text = out.toString(StandardCharsets.UTF_8);
        // the figures worked out by hand in the test above
        assertTrue(text.matches("(?s).*\\ndefault +global +2026-12-01T00:00:00Z +4 +337 +68 +405 +0\\.750000\\n.*"), text);
        assertTrue(text.matches("(?s).*\\ntenant +mdc:tenant=acme +2026-12-01T00:00:00Z +2 +300 +60 +360 +0\\.750000\\n.*"),
                text);
        assertTrue(text.matches("(?s).*\\ntenant +mdc:tenant=globex +2026-12-01T00:00:00Z +1 +7 +3 +10 +0\\.000000\\n.*"),
                text);
        assertTrue(text.contains("files of this service read: 2,"), text);
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void newlinesAreFoundAtEveryOffset() {
        for (int len = 0; len < 40; len++) {
            for (int at = 0; at <= len; at++) {
                byte[] b = new byte[len + 3];
                java.util.Arrays.fill(b, (byte) 'x');
                b[0] = '\n'; // before the range
                if (at < len) {
                    b[1 + at] = '\n';
                }
                b[len + 1] = '\n'; // after the range
                assertEquals(at < len ? 1 + at : -1, WindowReplay.newline(b, 1, 1 + len), len + "/" + at);
            }
        }
    }

    @Test
    void costsAsTheWriterWritesThemAreReadToTheNanoDollar() {
        byte[][] texts = {"0.000392".getBytes(), "1.5".getBytes(), "0".getBytes(), "0.0000000015".getBytes(),
                "0.0000000014".getBytes(), "12".getBytes(), "1e-3".getBytes(), "-1".getBytes(), ".5".getBytes()};
        long[] nanos = {392_000, 1_500_000_000L, 0, 2, 1, 12_000_000_000L, Long.MIN_VALUE, Long.MIN_VALUE,
                Long.MIN_VALUE};
        assertEquals(texts.length, nanos.length);
        for (int i = 0; i < texts.length; i++) {
            assertEquals(nanos[i], WindowReplay.plainNanoUsd(texts[i], 0, texts[i].length), new String(texts[i]));
        }
    }

    @Test
    void seededUsageRefusesAtTheRightCallAndDoesNotTouchOtherWindowsOrScopes() {
        TestClock clock = new TestClock(NOW);
        BudgetEngine engine = new BudgetEngine(BUDGETS, clock, MdcSource.NONE, null);
        List<WindowReplay.Target> targets = WindowReplay.targets(BUDGETS, NOW_MILLIS);
        assertEquals(List.of("default", "tenant", "hourly"), targets.stream().map(WindowReplay.Target::budget).toList());
        WindowReplay.Result read = new WindowReplay.Result(1, 3, 3, 0, 0, List.of(), Map.of(
                "default", Map.of("global", new WindowReplay.Usage(2, 700, 100, 0)),
                "tenant", Map.of("mdc:tenant=acme", new WindowReplay.Usage(1, 400, 99, 0))), false);
        assertEquals(800 + 499, WindowReplay.seed(engine, targets, read));

        // the default budget: 800 of 1,000 used; calls of 100 tokens: two pass, the third is refused
        CallScope scope = engine.enter();
        assertNull(engine.check(scope));
        engine.charge(scope, 90, 10, null);
        assertNull(engine.check(scope));
        engine.charge(scope, 90, 10, null);
        Refusal refusal = engine.check(scope);
        assertNotNull(refusal);
        assertEquals("default", refusal.budgetName());
        assertEquals(1_000, refusal.used());

        // a window that is over, a thread scope, an unknown budget: nothing added
        assertFalse(engine.seed("default", "global", NOW_MILLIS - Duration.ofDays(1).toMillis(), 5, 5, 0));
        assertFalse(engine.seed("perthread", "thread:main#1", NOW_MILLIS, 5, 5, 0));
        assertFalse(engine.seed("nope", "global", NOW_MILLIS, 5, 5, 0));
        assertFalse(engine.seed("tenant", "mdc:other=acme", NOW_MILLIS, 5, 5, 0));
        assertFalse(engine.seed("forever", "global", NOW_MILLIS, 5, 5, 0));
        engine.close();
    }
}
