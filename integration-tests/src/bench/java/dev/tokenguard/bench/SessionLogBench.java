package dev.tokenguard.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.sessionlog.LogLayout;
import dev.tokenguard.sessionlog.SessionLogWriter;
import dev.tokenguard.sessionlog.WindowReplay;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The session log's own figures, printed as a Markdown table:
 *
 * <ol>
 *   <li>100,000 calls on virtual threads (one virtual thread per call, as a server on virtual threads runs its
 *       requests; a {@code thread} scope makes each one a session: {@code session_start}, {@code llm_call},
 *       {@code session_end}), with the {@code session} and the {@code daily} layout: files created, bytes written,
 *       the time spent in the writer per call (mean, p50, p99 of the {@code llm_call} write; and of the three
 *       lines of a session);</li>
 *   <li>the restart replay of a window of 1,000,000 {@code llm_call} lines (one daily file as the writer writes
 *       it), against a pass of Jackson's streaming parser over the same file that reads the same fields and skips
 *       the rest.</li>
 * </ol>
 *
 * <p>Needs a JDK with virtual threads (21 or newer). Arguments: a scratch directory (deleted first) and
 * optionally {@code quick} (a tenth of the work) or {@code replay} (the replay only).
 */
public final class SessionLogBench {
    /** Calls in flight at once, as a server on virtual threads with this many requests under way. */
    static final int CONCURRENT_CALLS = 256;

    private SessionLogBench() {
    }

    public static void main(String[] args) throws Exception {
        if (Runtime.version().feature() < 21) {
            System.err.println("SessionLogBench needs virtual threads: run it on JDK 21 or newer (this is "
                    + Runtime.version() + ")");
            System.exit(2);
        }
        Path work = Path.of(args.length > 0 ? args[0] : "target/bench/sessionlog").toAbsolutePath();
        boolean quick = args.length > 1 && args[1].equals("quick");
        boolean replayOnly = args.length > 1 && args[1].equals("replay");
        int calls = quick ? 10_000 : 100_000;
        int replayLines = quick ? 100_000 : 1_000_000;
        delete(work);
        Files.createDirectories(work);

        StringBuilder table = new StringBuilder();
        table.append("JDK ").append(Runtime.version()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores\n\n");
        table.append("| layout | calls | files created | bytes written | writer per llm_call: mean / p50 / p99 / max (µs) |"
                + " writer per session, 3 lines: mean (µs) | wall time (s) |\n|---|---|---|---|---|---|---|\n");
        for (int round = replayOnly ? 2 : 0; round < 2; round++) { // round 0 warms the JIT; round 1 is reported
            for (LogLayout layout : LogLayout.values()) {
                String row = writerRun(work.resolve("write-" + layout.wireName() + "-" + round), layout, calls);
                System.out.println((round == 0 ? "(warm-up) " : "") + row);
                if (round == 1) {
                    table.append(row).append('\n');
                }
            }
        }
        table.append('\n').append(replayRun(work.resolve("replay"), replayLines));
        System.out.println();
        System.out.println(table);
        Files.writeString(work.resolve("results.md"), table);
    }

    static CallRecord call(int i) {
        return new CallRecord("openai", "chat", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "chatcmpl-" + i,
                1200L + (i % 100), 300L + (i % 50), 0L, null, 0L, Instant.now(), 812_000_000L, false, null,
                UsageSource.PROVIDER, List.of("stop"), "api.openai.com", 443, 0.000392);
    }

    /** One run of the writer: one virtual thread per call. */
    static String writerRun(Path dir, LogLayout layout, int calls) throws Exception {
        Files.createDirectories(dir);
        long[] callNanos = new long[calls];
        AtomicLong sessionNanos = new AtomicLong();
        SessionLogWriter writer = new SessionLogWriter(dir, "bench", ProcessHandle.current().pid(),
                Clock.systemUTC(), System.err::println,
                new SessionLogWriter.Settings(layout, "bench", "p1-bench", null, -1));
        long wall = System.nanoTime();
        ExecutorService vt = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor")
                .invoke(null);
        Semaphore inFlight = new Semaphore(CONCURRENT_CALLS);
        for (int i = 0; i < calls; i++) {
            int n = i;
            inFlight.acquire();
            vt.execute(() -> {
                String key = "thread:#" + (100_000 + n);
                Session s = new Session(key + "~p1-bench-" + n, key, "");
                CallRecord r = call(n);
                List<BudgetState> states = List.of(new BudgetState("default", key, r.totalTokens(), 100_000));
                long t0 = System.nanoTime();
                writer.sessionStart(s);
                long t1 = System.nanoTime();
                writer.llmCall(s, r, states, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", null, null);
                long t2 = System.nanoTime();
                writer.sessionEnd(s, "thread_end");
                long t3 = System.nanoTime();
                callNanos[n] = t2 - t1;
                sessionNanos.addAndGet(t3 - t0);
                inFlight.release();
            });
        }
        vt.shutdown();
        if (!vt.awaitTermination(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the writer run did not end");
        }
        writer.close();
        double wallSeconds = (System.nanoTime() - wall) / 1e9;
        long files;
        long bytes = 0;
        try (Stream<Path> list = Files.list(dir)) {
            List<Path> all = list.toList();
            files = all.size();
            for (Path p : all) {
                bytes += Files.size(p);
            }
        }
        long[] sorted = callNanos.clone();
        Arrays.sort(sorted);
        double mean = Arrays.stream(callNanos).average().orElse(0) / 1e3;
        delete(dir);
        return String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %.1f / %.1f / %.1f / %,.0f | %.1f | %.1f |",
                layout.wireName(), calls, files, bytes, mean, sorted[calls / 2] / 1e3, sorted[calls * 99 / 100] / 1e3,
                sorted[calls - 1] / 1e3,
                sessionNanos.get() / 1e3 / calls, wallSeconds);
    }

    /** The replay of one window of {@code lines} llm_call lines, and Jackson's streaming parser over the same file. */
    static String replayRun(Path dir, int lines) throws Exception {
        Files.createDirectories(dir);
        SessionLogWriter writer = new SessionLogWriter(dir, "bench", 1, Clock.systemUTC(), System.err::println,
                new SessionLogWriter.Settings(LogLayout.DAILY, "bench", "p1-bench", null, -1));
        Session s = new Session("global~p1-bench-1", "global", "main");
        writer.sessionStart(s);
        long expectedTokens = 0;
        for (int i = 0; i < lines; i++) {
            CallRecord r = call(i);
            expectedTokens += r.totalTokens();
            writer.llmCall(s, r, List.of(new BudgetState("default", "global", expectedTokens, Long.MAX_VALUE / 2)),
                    "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", null, null);
        }
        writer.close();
        Path file;
        try (Stream<Path> list = Files.list(dir)) {
            file = list.findFirst().orElseThrow();
        }
        long size = Files.size(file);
        long now = System.currentTimeMillis() + 1;
        List<WindowReplay.Target> targets = WindowReplay.targets(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME,
                ScopeSpec.GLOBAL, Long.MAX_VALUE / 4, null, null, null, Duration.ofDays(1), new double[0],
                EnforcementMode.ENFORCE)), now);

        List<Double> replay = new ArrayList<>();
        List<Double> replayCpu = new ArrayList<>();
        List<Double> jackson = new ArrayList<>();
        List<Double> jacksonCpu = new ArrayList<>();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 5; round++) {
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            WindowReplay.Result r = WindowReplay.read(dir, "bench", targets, now, () -> false);
            replay.add((System.nanoTime() - t0) / 1e9);
            replayCpu.add((threads.getCurrentThreadCpuTime() - c0) / 1e9);
            long tokens = r.tokens();
            if (r.calls() != lines || tokens != expectedTokens || r.parsedWhole() != 0) {
                throw new IllegalStateException("the replay read " + r.calls() + " calls, " + tokens
                        + " tokens (" + r.parsedWhole() + " lines parsed whole); expected " + lines + ", "
                        + expectedTokens + " by the narrow scanner");
            }
            long c1 = threads.getCurrentThreadCpuTime();
            long t1 = System.nanoTime();
            long jacksonTokens = jacksonPass(file);
            jackson.add((System.nanoTime() - t1) / 1e9);
            jacksonCpu.add((threads.getCurrentThreadCpuTime() - c1) / 1e9);
            if (jacksonTokens != expectedTokens) {
                throw new IllegalStateException("the Jackson pass read " + jacksonTokens + " tokens");
            }
            System.out.printf(Locale.ROOT, "replay round %d: %.2f s (CPU %.2f s); Jackson streaming: %.2f s (CPU %.2f s)%n",
                    round, replay.get(round), replayCpu.get(round), jackson.get(round), jacksonCpu.get(round));
        }
        delete(dir);
        return String.format(Locale.ROOT, "| replay of one window | lines | file | wall: median (min–max) of 5 |"
                        + " CPU of the reading thread: median (min) | lines/s (wall median) |%n"
                        + "|---|---|---|---|---|---|%n"
                        + "| `WindowReplay` (narrow scanner) | %,d | %,d MB | %.2f s (%.2f–%.2f) | %.2f s (%.2f) | %,.0f |%n"
                        + "| Jackson streaming parser, same fields | %,d | %,d MB | %.2f s (%.2f–%.2f) | %.2f s (%.2f) | %,.0f |%n",
                lines, size / 1_000_000, median(replay), min(replay), max(replay), median(replayCpu), min(replayCpu),
                lines / median(replay),
                lines, size / 1_000_000, median(jackson), min(jackson), max(jackson), median(jacksonCpu),
                min(jacksonCpu), lines / median(jackson));
    }

    /**
     * What the replay does, with Jackson's streaming parser: per line, event, ts, the token counts and the budget
     * entries; every other value skipped. Returns the tokens of the llm_call lines.
     */
    static long jacksonPass(Path file) throws IOException {
        JsonFactory factory = new JsonFactory();
        long tokens = 0;
        byte[] all = Files.readAllBytes(file);
        int start = 0;
        for (int i = 0; i < all.length; i++) {
            if (all[i] != '\n') {
                continue;
            }
            try (JsonParser p = factory.createParser(all, start, i - start)) {
                start = i + 1;
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    continue;
                }
                boolean call = false;
                long in = 0;
                long out = 0;
                String ts = null;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonToken v = p.nextToken();
                    switch (name) {
                        case "ts" -> ts = p.getText();
                        case "event" -> call = p.getText().equals("llm_call");
                        case "input_tokens" -> in = v == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : 0;
                        case "output_tokens" -> out = v == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : 0;
                        case "budget" -> {
                            while (p.nextToken() == JsonToken.START_OBJECT) {
                                while (p.nextToken() == JsonToken.FIELD_NAME) {
                                    p.nextToken();
                                    p.getText();
                                }
                            }
                        }
                        default -> p.skipChildren();
                    }
                }
                if (call && ts != null) {
                    tokens += in + out;
                }
            }
        }
        return tokens;
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    }

    static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.delete(p);
            }
        }
    }
}
