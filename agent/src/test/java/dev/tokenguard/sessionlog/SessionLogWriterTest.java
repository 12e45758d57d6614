package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SessionLogWriterTest {

    static final Instant NOW = Instant.parse("2026-11-25T18:20:00.123Z");
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path tmp;

    final List<String> errors = new CopyOnWriteArrayList<>();

    SessionLogWriter writer(Path dir) {
        return new SessionLogWriter(dir, "1.2.3", 4242L, Clock.fixed(NOW, ZoneOffset.UTC), errors::add);
    }

    static CallRecord fullCall() {
        return new CallRecord("openai", "chat", "gpt-4o", "gpt-4o-2024-08-06", "resp-1",
                120L, 30L, 100L, 7L, 5L, NOW, 1_234_567_890L, true, null, UsageSource.PROVIDER,
                List.of("stop"), "api.openai.com", 443, 0.0125,
                dev.tokenguard.core.CallerFrame.of("com.acme.tickets.Summarizer", "summarize", "Summarizer.java", 88));
    }

    static CallRecord unknownCall() {
        return new CallRecord("anthropic", "chat", "claude-x", null, null,
                null, null, null, null, null, NOW, 5_000_000L, false, "java.net.SocketTimeoutException",
                UsageSource.ESTIMATED, null, null, null, null);
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            nodes.add(MAPPER.readTree(line));
        }
        return nodes;
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        Iterator<String> it = node.fieldNames();
        it.forEachRemaining(names::add);
        return names;
    }

    Path fileOf(Session s) {
        return tmp.resolve(SessionLogWriter.fileNameFor(s.id()));
    }

    @Test
    void sessionStartHasCommonFieldsThenScopeThreadPidVersion() throws IOException {
        Session s = new Session("sess-1", "thread:main#1", "main");
        try (SessionLogWriter w = writer(tmp)) {
            w.sessionStart(s);
        }
        List<JsonNode> lines = lines(fileOf(s));
        assertEquals(1, lines.size());
        JsonNode n = lines.get(0);
        assertEquals(List.of("ts", "session", "seq", "event", "scope", "thread", "pid", "agent_version", "service"),
                fieldNames(n));
        assertEquals("2026-11-25T18:20:00.123Z", n.get("ts").asText());
        assertEquals("sess-1", n.get("session").asText());
        assertTrue(n.get("seq").isIntegralNumber());
        assertEquals(1, n.get("seq").asLong());
        assertEquals("session_start", n.get("event").asText());
        assertEquals("thread:main#1", n.get("scope").asText());
        assertEquals("main", n.get("thread").asText());
        assertTrue(n.get("pid").isIntegralNumber());
        assertEquals(4242L, n.get("pid").asLong());
        assertEquals("1.2.3", n.get("agent_version").asText());
        assertEquals("default", n.get("service").asText());
        assertTrue(errors.isEmpty(), errors::toString);
    }

    @Test
    void llmCallWritesEveryFieldInSpecOrderWithTypes() throws IOException {
        Session s = new Session("sess-2", "thread:w#2", "w");
        try (SessionLogWriter w = writer(tmp)) {
            w.llmCall(s, fullCall(), List.of(new BudgetState("default", "thread:w#2", 150, 100_000),
                    new BudgetState("cost-only", "thread:w#2", 150, -1)),
                    "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", null, null);
        }
        JsonNode n = lines(fileOf(s)).get(0);
        assertEquals(List.of("ts", "session", "seq", "event", "provider", "operation", "request_model",
                "response_model", "input_tokens", "output_tokens", "total_tokens", "cache_read_tokens",
                "cache_write_tokens", "reasoning_tokens", "duration_ms", "streaming", "status", "error_type",
                "cost_usd", "usage_source", "budget", "trace_id", "span_id", "call_site", "notice_injected"),
                fieldNames(n));
        assertEquals("llm_call", n.get("event").asText());
        assertFalse(n.get("notice_injected").asBoolean());
        assertEquals("openai", n.get("provider").asText());
        assertEquals("chat", n.get("operation").asText());
        assertEquals("gpt-4o", n.get("request_model").asText());
        assertEquals("gpt-4o-2024-08-06", n.get("response_model").asText());
        assertEquals(120, n.get("input_tokens").asLong());
        assertEquals(30, n.get("output_tokens").asLong());
        assertEquals(150, n.get("total_tokens").asLong());
        assertEquals(100, n.get("cache_read_tokens").asLong());
        assertEquals(7, n.get("cache_write_tokens").asLong());
        assertEquals(5, n.get("reasoning_tokens").asLong());
        for (String f : List.of("input_tokens", "output_tokens", "total_tokens", "cache_read_tokens",
                "cache_write_tokens", "reasoning_tokens", "duration_ms")) {
            assertTrue(n.get(f).isIntegralNumber(), f + " should be an integer: " + n.get(f));
        }
        assertEquals(1234, n.get("duration_ms").asLong());
        assertTrue(n.get("streaming").isBoolean());
        assertTrue(n.get("streaming").booleanValue());
        assertEquals("ok", n.get("status").asText());
        assertTrue(n.get("error_type").isNull());
        assertTrue(n.get("cost_usd").isFloatingPointNumber());
        assertEquals(0.0125, n.get("cost_usd").doubleValue());
        assertEquals("provider", n.get("usage_source").asText());
        JsonNode budget = n.get("budget");
        assertTrue(budget.isArray());
        assertEquals(2, budget.size());
        assertEquals(List.of("name", "scope", "used", "limit"), fieldNames(budget.get(0)));
        assertEquals("default", budget.get(0).get("name").asText());
        assertEquals("thread:w#2", budget.get(0).get("scope").asText());
        assertEquals(150, budget.get(0).get("used").asLong());
        assertEquals(100_000, budget.get(0).get("limit").asLong());
        assertEquals("cost-only", budget.get(1).get("name").asText());
        assertTrue(budget.get(1).get("limit").isNull(), "limit -1 is written as null");
        assertEquals("0af7651916cd43dd8448eb211c80319c", n.get("trace_id").asText());
        assertEquals("b7ad6b7169203331", n.get("span_id").asText());
        assertEquals("com.acme.tickets.Summarizer.summarize:88", n.get("call_site").asText());
    }

    @Test
    void llmCallWritesNullForUnknownsAndNoContentFieldsWhenNotCaptured() throws IOException {
        Session s = new Session("sess-3", "thread:w#3", "w");
        try (SessionLogWriter w = writer(tmp)) {
            w.llmCall(s, unknownCall(), List.of(), null, null, null, null);
        }
        JsonNode n = lines(fileOf(s)).get(0);
        for (String f : List.of("response_model", "input_tokens", "output_tokens", "total_tokens",
                "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "trace_id", "span_id",
                "call_site")) {
            assertTrue(n.has(f), f + " must be present");
            assertTrue(n.get(f).isNull(), f + " must be null, was " + n.get(f));
        }
        assertEquals("error", n.get("status").asText());
        assertEquals("java.net.SocketTimeoutException", n.get("error_type").asText());
        assertEquals("estimated", n.get("usage_source").asText());
        assertFalse(n.get("streaming").booleanValue());
        assertEquals(5, n.get("duration_ms").asLong());
        assertEquals(0, n.get("budget").size());
        assertFalse(n.has("prompt"));
        assertFalse(n.has("completion"));
    }

    @Test
    void capturedContentIsWrittenLastAndTruncatedWithAMarker() throws IOException {
        Session s = new Session("sess-4", "thread:w#4", "w");
        String longPrompt = "p".repeat(10_000);
        try (SessionLogWriter w = writer(tmp)) {
            w.llmCall(s, fullCall(), List.of(), null, null, longPrompt, "short answer");
        }
        JsonNode n = lines(fileOf(s)).get(0);
        List<String> names = fieldNames(n);
        assertEquals(List.of("call_site", "notice_injected", "prompt", "completion"),
                names.subList(names.size() - 4, names.size()));
        String prompt = n.get("prompt").asText();
        assertTrue(prompt.startsWith("p".repeat(4_000)));
        assertFalse(prompt.startsWith("p".repeat(4_001)), "cut at 4,000 chars");
        assertTrue(prompt.endsWith("...[truncated by TokenGuard: 10000 chars in total]"), prompt.substring(4_000));
        assertEquals("short answer", n.get("completion").asText());
    }

    @Test
    void truncationNeverSplitsASurrogatePair() {
        String text = "a".repeat(3_999) + "\uD83D\uDE00" + "b".repeat(10);
        String cut = SessionLogWriter.truncate(text);
        assertEquals("a".repeat(3_999) + "...[truncated by TokenGuard: 4011 chars in total]", cut);
    }

    @Test
    void warningExceededAndEndEventsHaveTheirFieldsAndEndClosesTheFile() throws IOException {
        Session s = new Session("sess-5", "thread:w#5", "w");
        s.add(700, 300, 0.5);
        s.add(10, 5, null);
        try (SessionLogWriter w = writer(tmp)) {
            w.budgetWarning(s, "default", 0.75, 760, 1000);
            w.budgetExceeded(s, "default", 1015, 1000, "openai", "gpt-4o");
            assertEquals(1, w.openFileCount());
            w.sessionEnd(s, "thread_end");
            assertEquals(0, w.openFileCount(), "session_end closes the session's file");
        }
        List<JsonNode> lines = lines(fileOf(s));
        assertEquals(3, lines.size());

        JsonNode warn = lines.get(0);
        assertEquals(List.of("ts", "session", "seq", "event", "budget", "threshold", "used", "limit"), fieldNames(warn));
        assertEquals("budget_warning", warn.get("event").asText());
        assertEquals("default", warn.get("budget").asText());
        assertTrue(warn.get("threshold").isFloatingPointNumber());
        assertEquals(0.75, warn.get("threshold").doubleValue());
        assertEquals(760, warn.get("used").asLong());
        assertEquals(1000, warn.get("limit").asLong());

        JsonNode exceeded = lines.get(1);
        assertEquals(List.of("ts", "session", "seq", "event", "budget", "used", "limit", "provider", "request_model"),
                fieldNames(exceeded));
        assertEquals("budget_exceeded", exceeded.get("event").asText());
        assertEquals(1015, exceeded.get("used").asLong());
        assertEquals(1000, exceeded.get("limit").asLong());
        assertEquals("openai", exceeded.get("provider").asText());
        assertEquals("gpt-4o", exceeded.get("request_model").asText());

        JsonNode end = lines.get(2);
        assertEquals(List.of("ts", "session", "seq", "event", "reason", "input_tokens", "output_tokens",
                "total_tokens", "cost_usd"), fieldNames(end));
        assertEquals("session_end", end.get("event").asText());
        assertEquals("thread_end", end.get("reason").asText());
        assertEquals(710, end.get("input_tokens").asLong());
        assertEquals(305, end.get("output_tokens").asLong());
        assertEquals(1015, end.get("total_tokens").asLong());
        assertEquals(0.5, end.get("cost_usd").doubleValue());
    }

    @Test
    void sessionEndOfAnUnpricedSessionHasNullCost() throws IOException {
        Session s = new Session("sess-6", "global", "main");
        s.add(1, 2, null);
        try (SessionLogWriter w = writer(tmp)) {
            w.sessionEnd(s, "shutdown");
        }
        JsonNode end = lines(fileOf(s)).get(0);
        assertTrue(end.get("cost_usd").isNull());
        assertEquals(3, end.get("total_tokens").asLong());
    }

    @Test
    void aSessionCostSummedFromPricesIsWrittenWithoutBinaryNoise() throws IOException {
        Session s = new Session("sess-7", "global", "main");
        double sum = 0;
        for (double cost : new double[] {0.0001, 0.0002}) {
            s.add(1, 1, cost);
            sum += cost;
        }
        assertEquals(3.0000000000000003E-4, sum, 0.0, "the sum itself carries binary noise");
        try (SessionLogWriter w = writer(tmp)) {
            w.sessionEnd(s, "shutdown");
        }
        String line = Files.readAllLines(fileOf(s), StandardCharsets.UTF_8).get(0);
        assertTrue(line.endsWith(",\"cost_usd\":0.0003}"), line);
        assertEquals("0", SessionLogWriter.usd(0.0));
        assertEquals("12.5", SessionLogWriter.usd(12.5));
        assertEquals("0.000000000001", SessionLogWriter.usd(1.4e-12));
        assertEquals("0.0125", SessionLogWriter.usd(0.0125));
        assertEquals("3.000000000001", SessionLogWriter.usd(3.000000000001));
        assertEquals("-0.5", SessionLogWriter.usd(-0.5));
        assertEquals("0", SessionLogWriter.usd(4e-13));
        assertEquals("1234567.25", SessionLogWriter.usd(1234567.25), "a thousand dollars and more, through BigDecimal");
        for (double cost : new double[] {7.937999999999998E-4, 0.00030000000000000003, 2.5e-6 * 1234, 999.999, 0.1 + 0.2}) {
            assertEquals(new java.math.BigDecimal(cost).setScale(12, java.math.RoundingMode.HALF_EVEN)
                    .stripTrailingZeros().toPlainString(), SessionLogWriter.usd(cost), "as exact rounding says");
        }
    }

    @Test
    void seqCountsOneTwoThreePerSession() throws IOException {
        Session a = new Session("a", "thread:a#1", "a");
        Session b = new Session("b", "thread:b#2", "b");
        try (SessionLogWriter w = writer(tmp)) {
            w.sessionStart(a);
            w.sessionStart(b);
            w.llmCall(a, fullCall(), List.of(), null, null, null, null);
            w.budgetWarning(a, "default", 0.9, 90, 100);
            w.llmCall(b, fullCall(), List.of(), null, null, null, null);
        }
        assertEquals(List.of(1L, 2L, 3L), lines(fileOf(a)).stream().map(n -> n.get("seq").asLong()).toList());
        assertEquals(List.of(1L, 2L), lines(fileOf(b)).stream().map(n -> n.get("seq").asLong()).toList());
        assertTrue(lines(fileOf(a)).stream().allMatch(n -> n.get("session").asText().equals("a")));
    }

    @Test
    void everyLineEndsWithNewlineAndOutsideStringsAreEscaped() throws IOException {
        String nasty = "model \"x\"\n{\"event\":\"forged\"}\\ \u0001 \u00e9\u4e2d \uD83D\uDE00";
        Session s = new Session("tenant \"acme\"\n", "mdc:tenant=acme", "t");
        CallRecord r = new CallRecord("openai", "chat", nasty, nasty, null, 1L, 1L, null, null, null, NOW, 0,
                false, null, UsageSource.PROVIDER, null, null, null, null);
        try (SessionLogWriter w = writer(tmp)) {
            w.llmCall(s, r, List.of(new BudgetState("b\"\n", "x", 1, 2)), "t\n", "s\"", "prompt\n\"x\"", null);
        }
        byte[] raw = Files.readAllBytes(fileOf(s));
        String text = new String(raw, StandardCharsets.UTF_8);
        assertEquals(1, text.chars().filter(c -> c == '\n').count(), "exactly one line");
        assertTrue(text.endsWith("\n"));
        JsonNode n = MAPPER.readTree(text);
        assertEquals(nasty, n.get("request_model").asText());
        assertEquals(nasty, n.get("response_model").asText());
        assertEquals("tenant \"acme\"\n", n.get("session").asText());
        assertEquals("b\"\n", n.get("budget").get(0).get("name").asText());
        assertEquals("t\n", n.get("trace_id").asText());
        assertEquals("prompt\n\"x\"", n.get("prompt").asText());
        assertEquals("llm_call", n.get("event").asText());
    }

    static List<String> nastyIds() {
        List<String> ids = new ArrayList<>(List.of("../../x", "/etc/passwd", "..", ".", "", "...", ".hidden",
                "a/b", "a\\b", "a:b", "a b", "a_b", "a\u0000b", "tenant-Zürich", "租户", "\uD83D\uDE00", "\uD800",
                "\uDC00", "C:\\Windows\\system32", "x-h0123456789abcdef", "thread:worker-3#41"));
        ids.add("x".repeat(1000));
        ids.add("x".repeat(999) + "y");
        ids.add("/".repeat(1000));
        ids.add("../".repeat(400));
        return ids;
    }

    @Test
    void fileNamesAreSafeBoundedAndDistinct() {
        List<String> ids = nastyIds();
        List<String> names = new ArrayList<>();
        for (String id : ids) {
            String name = SessionLogWriter.fileNameFor(id);
            assertTrue(name.matches("[A-Za-z0-9._-]+\\.jsonl"), "unsafe name " + name + " for id " + id);
            assertTrue(name.length() <= 150, "too long: " + name.length());
            assertFalse(name.startsWith("."), "hidden or dot name " + name);
            assertEquals(name, SessionLogWriter.fileNameFor(id), "stable for " + id);
            names.add(name);
        }
        assertEquals(ids.size(), names.stream().distinct().count(), "distinct ids map to distinct names: " + names);
        assertEquals(SessionLogWriter.fileNameFor(null), SessionLogWriter.fileNameFor(""));
    }

    @Test
    void plainIdsKeepTheirNameAndLookalikesOfHashedNamesDoNotCollide() {
        assertEquals("thread-main-1.jsonl", SessionLogWriter.fileNameFor("thread-main-1"));
        assertEquals("a_b.jsonl", SessionLogWriter.fileNameFor("a_b"));
        String hashed = SessionLogWriter.fileNameFor("a/b");
        assertTrue(hashed.startsWith("a_b-h"), hashed);
        String lookalike = hashed.substring(0, hashed.length() - ".jsonl".length());
        assertFalse(SessionLogWriter.fileNameFor(lookalike).equals(hashed),
                "an id spelled like another id's hashed name must not share its file");
        assertTrue(SessionLogWriter.fileNameFor("x".repeat(1000)).startsWith("x".repeat(100)));
    }

    @Test
    void noFileEverLandsOutsideTheDirectory() throws IOException {
        Path dir = tmp.resolve("logs");
        List<String> ids = nastyIds();
        try (SessionLogWriter w = writer(dir)) {
            for (String id : ids) {
                Path resolved = dir.resolve(SessionLogWriter.fileNameFor(id)).normalize();
                assertEquals(dir, resolved.getParent(), "id " + id);
                w.sessionStart(new Session(id, "mdc:t=" + id, "main"));
            }
        }
        try (Stream<Path> inTmp = Files.list(tmp)) {
            assertEquals(List.of(dir), inTmp.toList(), "nothing but the log dir in its parent");
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> written = files.toList();
            assertEquals(ids.size(), written.size());
            for (Path f : written) {
                assertTrue(Files.isRegularFile(f));
                JsonNode n = lines(f).get(0);
                assertEquals(f.getFileName().toString(), SessionLogWriter.fileNameFor(n.get("session").asText()));
            }
        }
        assertTrue(errors.isEmpty(), errors::toString);
    }

    @Test
    void createdDirectoryAndFilesAreOwnerOnlyOnPosix() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path dir = tmp.resolve("a").resolve("sessions");
        Session s = new Session("perm", "global", "main");
        try (SessionLogWriter w = writer(dir)) {
            w.sessionStart(s);
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(SessionLogWriter.fileNameFor("perm")))));
    }

    @Test
    void appendsToAnExistingFileAndNeverTruncatesIt() throws IOException {
        Session s = new Session("again", "global", "main");
        Path file = fileOf(s);
        Files.writeString(file, "{\"earlier\":true}\n");
        try (SessionLogWriter w = writer(tmp)) {
            w.sessionStart(s);
        }
        try (SessionLogWriter w = writer(tmp)) {
            w.sessionStart(s);
        }
        List<JsonNode> lines = lines(file);
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).get("earlier").booleanValue());
        assertEquals(List.of(1L, 2L), List.of(lines.get(1).get("seq").asLong(), lines.get(2).get("seq").asLong()));
    }

    @Test
    void concurrentWritersToOneSessionNeverInterleaveAndKeepSeqInFileOrder() throws Exception {
        Session s = new Session("busy", "global", "main");
        int threads = 8;
        int perThread = 1_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        try (SessionLogWriter w = writer(tmp)) {
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread worker = new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < perThread; i++) {
                            w.llmCall(s, fullCall(), List.of(new BudgetState("default", "global", i, 100)),
                                    "trace-" + id, "span-" + i, null, null);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                workers.add(worker);
                worker.start();
            }
            start.countDown();
            for (Thread worker : workers) {
                worker.join();
            }
        }
        assertTrue(failures.isEmpty(), failures::toString);
        List<JsonNode> lines = lines(fileOf(s));
        assertEquals(threads * perThread, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(i + 1, lines.get(i).get("seq").asLong(), "seq strictly increasing in file order at line " + i);
        }
        assertTrue(errors.isEmpty(), errors::toString);
    }

    @Test
    void openFilesStayBoundedAndEvictedFilesAreReopenedForAppend() throws IOException {
        int sessions = SessionLogWriter.MAX_OPEN_FILES + 44;
        List<Session> all = new ArrayList<>();
        try (SessionLogWriter w = writer(tmp)) {
            for (int i = 0; i < sessions; i++) {
                Session s = new Session("s" + i, "mdc:t=" + i, "main");
                all.add(s);
                w.sessionStart(s);
                assertTrue(w.openFileCount() <= SessionLogWriter.MAX_OPEN_FILES, "open: " + w.openFileCount());
            }
            assertEquals(SessionLogWriter.MAX_OPEN_FILES, w.openFileCount());
            w.budgetWarning(all.get(0), "default", 0.75, 75, 100); // s0 was evicted first
            w.close();
            assertEquals(0, w.openFileCount(), "close() closes every open file");
            w.budgetWarning(all.get(1), "default", 0.75, 75, 100); // writing after close reopens
        }
        assertEquals(List.of("session_start", "budget_warning"),
                lines(fileOf(all.get(0))).stream().map(n -> n.get("event").asText()).toList());
        assertEquals(List.of(1L, 2L), lines(fileOf(all.get(1))).stream().map(n -> n.get("seq").asLong()).toList());
        assertTrue(errors.isEmpty(), errors::toString);
    }

    @Test
    void unwritableDirectoryIsReportedOnceAndNeverThrows() throws IOException {
        Path blocker = tmp.resolve("blocker");
        Files.writeString(blocker, "a regular file where a directory should be");
        Path dir = blocker.resolve("sessions");
        Session s = new Session("lost", "global", "main");
        try (SessionLogWriter w = writer(dir)) {
            w.sessionStart(s);
            for (int i = 0; i < 10; i++) {
                w.llmCall(s, fullCall(), List.of(), null, null, null, null);
                w.budgetWarning(s, "default", 0.75, 1, 2);
            }
            w.budgetExceeded(s, "default", 3, 2, "openai", "gpt-4o");
            w.sessionEnd(s, "shutdown");
        }
        assertEquals(1, errors.size(), errors::toString);
        assertTrue(errors.get(0).contains(dir.toString()), errors.get(0));
        assertTrue(errors.get(0).contains("tokenguard.session-log.dir"), errors.get(0));
        assertFalse(Files.exists(dir));
    }

    @Test
    void directoryThatIsAFileIsReportedClearly() throws IOException {
        Path dir = tmp.resolve("sessions");
        Files.writeString(dir, "not a directory");
        try (SessionLogWriter w = writer(dir)) {
            w.sessionStart(new Session("x", "global", "main"));
            w.sessionStart(new Session("y", "global", "main"));
        }
        assertEquals(1, errors.size(), errors::toString);
        assertTrue(errors.get(0).contains("exists but is not a directory"), errors.get(0));
    }

    @Test
    void aThrowingErrorReporterDoesNotBreakTheCaller() throws IOException {
        Path blocker = tmp.resolve("blocker");
        Files.writeString(blocker, "x");
        Path dir = blocker.resolve("d");
        List<String> asked = new CopyOnWriteArrayList<>();
        try (SessionLogWriter w = new SessionLogWriter(dir, "v", 1, Clock.systemUTC(),
                line -> {
                    asked.add(line);
                    throw new IllegalStateException("reporter broke");
                })) {
            for (int round = 0; round < 2; round++) {
                w.sessionStart(new Session("x", "global", "main"));
                w.llmCall(null, fullCall(), List.of(), null, null, null, null);
                w.llmCall(new Session("y", "global", "main"), null, List.of(), null, null, null, null);
            }
        }
        // each of the three failures reached the reporter once, although the reporter threw every time
        assertEquals(3, asked.size(), asked::toString);
        assertTrue(asked.get(0).startsWith("TokenGuard: session log: cannot create the directory " + dir + " ("),
                asked.get(0));
        assertTrue(asked.get(0).endsWith("); session-log lines are dropped until it exists;"
                + " set tokenguard.session-log.dir to a writable directory"), asked.get(0));
        assertEquals("TokenGuard: session log: a llm_call event without a session was dropped", asked.get(1));
        assertEquals("TokenGuard: session log: an llm_call without a call record was dropped (session y)",
                asked.get(2));
        assertEquals("x", Files.readString(blocker), "the file in the way is left alone");
    }

    @Test
    void directoryDeletedUnderTheWriterIsCreatedAgain() throws IOException {
        Path dir = tmp.resolve("gone");
        Session s = new Session("g", "global", "main");
        try (SessionLogWriter w = writer(dir)) {
            w.sessionStart(s);
            w.sessionEnd(s, "thread_end");
            Files.delete(dir.resolve(SessionLogWriter.fileNameFor("g")));
            Files.delete(dir);
            Session t = new Session("h", "global", "main");
            w.sessionStart(t);
            assertEquals(1, lines(dir.resolve(SessionLogWriter.fileNameFor("h"))).size());
        }
        assertTrue(errors.isEmpty(), errors::toString);
    }
}
