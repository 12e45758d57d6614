package dev.tokenguard.sessionlog;

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
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UsageReportTest {

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

    static CallRecord call(String provider, String model, Long in, Long outTokens, Double cost) {
        return new CallRecord(provider, "chat", model, model, null, in, outTokens, null, null, null,
                SessionLogWriterTest.NOW, 1_000_000L, false, null, UsageSource.PROVIDER, null, null, null, cost);
    }

    /**
     * s1: two openai gpt-4o calls (100+20, 200+40; $0.01 + $0.02), one warning after the second;
     * s2: one anthropic claude call (50+5, unpriced), one refused gpt-4o call; plus one garbage line.
     */
    void writeFixture() throws IOException {
        Session s1 = new Session("s1", "thread:a#1", "a");
        Session s2 = new Session("s2", "thread:b#2", "b");
        try (SessionLogWriter w = new SessionLogWriter(tmp, "v", 1, Clock.fixed(SessionLogWriterTest.NOW, ZoneOffset.UTC),
                line -> { })) {
            w.sessionStart(s1);
            w.llmCall(s1, call("openai", "gpt-4o", 100L, 20L, 0.01), List.of(new BudgetState("default", "x", 120, 400)),
                    null, null, null, null);
            w.llmCall(s1, call("openai", "gpt-4o", 200L, 40L, 0.02), List.of(new BudgetState("default", "x", 360, 400)),
                    null, null, null, null);
            w.budgetWarning(s1, "default", 0.75, 360, 400);
            s1.add(300, 60, 0.03);
            w.sessionEnd(s1, "thread_end");

            w.sessionStart(s2);
            w.llmCall(s2, call("anthropic", "claude", 50L, 5L, null), List.of(), null, null, null, null);
            w.budgetExceeded(s2, "default", 400, 400, "openai", "gpt-4o");
        }
        Files.writeString(tmp.resolve(SessionLogWriter.fileNameFor("s2")), "{\"garbage",
                StandardOpenOption.APPEND);
    }

    String[] row(String output, String section, String key) {
        String[] parts = output.split("\\R\\R");
        for (String part : parts) {
            if (part.startsWith("By " + section)) {
                for (String line : part.split("\\R")) {
                    String[] cells = line.trim().split("\\s+");
                    if (cells[0].equals(key)) {
                        return cells;
                    }
                }
            }
        }
        throw new AssertionError("no row " + key + " in section " + section + " of:\n" + output);
    }

    @Test
    void printsTotalsPerSessionModelAndProvider() throws IOException {
        writeFixture();
        int code = UsageReport.run(tmp, out, err);
        String output = outBytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, errBytes.toString(StandardCharsets.UTF_8));

        // columns: key calls input output total cost warnings refusals
        assertEquals(List.of("s1", "2", "300", "60", "360", "0.030000", "1", "0"), Arrays.asList(row(output, "session", "s1")));
        assertEquals(List.of("s2", "1", "50", "5", "55", "-", "0", "1"), Arrays.asList(row(output, "session", "s2")));
        assertEquals(List.of("TOTAL", "3", "350", "65", "415", "0.030000*", "1", "1"),
                Arrays.asList(row(output, "session", "TOTAL")));
        assertEquals(List.of("gpt-4o", "2", "300", "60", "360", "0.030000", "1", "1"),
                Arrays.asList(row(output, "model", "gpt-4o")));
        assertEquals(List.of("claude", "1", "50", "5", "55", "-", "0", "0"), Arrays.asList(row(output, "model", "claude")));
        assertEquals(List.of("openai", "2", "300", "60", "360", "0.030000", "1", "1"),
                Arrays.asList(row(output, "provider", "openai")));
        assertEquals(List.of("anthropic", "1", "50", "5", "55", "-", "0", "0"),
                Arrays.asList(row(output, "provider", "anthropic")));
        assertTrue(output.contains("* cost of priced calls only"), output);
        assertTrue(output.stripTrailing().endsWith("unreadable lines skipped: 1"), output);
    }

    static CallRecord callAt(String model, long in, long outTokens, String className, String method, int line) {
        return new CallRecord("openai", "chat", model, model, null, in, outTokens, null, null, null,
                SessionLogWriterTest.NOW, 1_000_000L, false, null, UsageSource.PROVIDER, null, null, null, null,
                className == null ? null : dev.tokenguard.core.CallerFrame.of(className, method, null, line));
    }

    @Test
    void callSiteTableRanksCallSitesBySpendWithTheirWarningsAndRefusals() throws IOException {
        Session s = new Session("s9", "thread:c#9", "c");
        try (SessionLogWriter w = new SessionLogWriter(tmp, "v", 1, Clock.fixed(SessionLogWriterTest.NOW, ZoneOffset.UTC),
                line -> { })) {
            w.sessionStart(s);
            // Summarizer.summarize:88 spends 15+2, then 100+20 and crosses a threshold; Triage.route:12 spends
            // 300+40 and is refused once; one call has no known call site (7+1)
            w.llmCall(s, callAt("gpt-4o", 15, 2, "com.acme.Summarizer", "summarize", 88), List.of(), null, null,
                    null, null);
            w.llmCall(s, callAt("gpt-4o", 100, 20, "com.acme.Summarizer", "summarize", 88), List.of(), null, null,
                    null, null);
            w.budgetWarning(s, "default", 0.75, 137, 180);
            w.llmCall(s, callAt("gpt-4o", 300, 40, "com.acme.Triage", "route", 12), List.of(), null, null, null,
                    null);
            w.budgetExceeded(s, "default", 477, 180, dev.tokenguard.budget.LimitKind.TOTAL_TOKENS, "openai", "gpt-4o",
                    "com.acme.Triage.route:12");
            w.llmCall(s, callAt("gpt-4o", 7, 1, null, null, 0), List.of(), null, null, null, null);
        }
        assertEquals(0, UsageReport.run(tmp, out, err), errBytes.toString(StandardCharsets.UTF_8));
        String output = outBytes.toString(StandardCharsets.UTF_8);
        // columns: key calls input output total cost warnings refusals
        assertEquals(List.of("com.acme.Triage.route:12", "1", "300", "40", "340", "-", "0", "1"),
                Arrays.asList(row(output, "call site", "com.acme.Triage.route:12")));
        assertEquals(List.of("com.acme.Summarizer.summarize:88", "2", "115", "22", "137", "-", "1", "0"),
                Arrays.asList(row(output, "call site", "com.acme.Summarizer.summarize:88")));
        assertEquals(List.of(UsageReport.UNKNOWN, "1", "7", "1", "8", "-", "0", "0"),
                Arrays.asList(row(output, "call site", UsageReport.UNKNOWN)));
        String section = output.substring(output.indexOf("By call site"));
        int triage = section.indexOf("com.acme.Triage.route:12");
        int summarizer = section.indexOf("com.acme.Summarizer.summarize:88");
        int unknown = section.indexOf(UsageReport.UNKNOWN);
        assertTrue(triage < summarizer && summarizer < unknown, "highest spend first:\n" + section);
    }

    @Test
    void missingDirectoryExitsTwoNamingThePath() {
        Path missing = tmp.resolve("no-such-dir");
        assertEquals(2, UsageReport.run(missing, out, err));
        String message = errBytes.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains(missing.toString()), message);
        assertTrue(message.contains("does not exist"), message);
        assertEquals("", outBytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aFileInsteadOfADirectoryExitsTwoNamingThePath() throws IOException {
        Path file = Files.writeString(tmp.resolve("x.jsonl"), "{}\n");
        assertEquals(2, UsageReport.run(file, out, err));
        String message = errBytes.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains(file.toString()), message);
        assertTrue(message.contains("not a directory"), message);
    }

    @Test
    void emptyDirectorySaysSoAndSucceeds() {
        assertEquals(0, UsageReport.run(tmp, out, err));
        String output = outBytes.toString(StandardCharsets.UTF_8);
        assertTrue(output.contains("no session logs (*.jsonl) in " + tmp), output);
        assertTrue(output.contains("unreadable lines skipped: 0"), output);
    }
}
