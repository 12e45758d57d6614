package dev.tokenguard.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Reservation under concurrency: 64 threads on one {@code global} budget of 3,001 tokens, chat requests with no output
 * cap, a fake server in the app's JVM that answers after 50 ms (the app {@code ConcurrentBudgetApp} of the forked-JVM
 * tests), once with reservation on (the defaults) and once with {@code budget.reserve-output=off}. The figures come
 * from the fake server's ledger: tokens answered past the limit, and requests that arrived when the tokens answered
 * had already reached it.
 */
final class ConcurrentBudget {
    static final int THREADS = 64;
    static final long LIMIT = 3_001;
    static final String APP = "dev.tokenguard.it.app.ConcurrentBudgetApp";

    private ConcurrentBudget() {
    }

    /** Runs both variants; the ledger's figures per variant ({@code on}, {@code off}). */
    static Map<String, Map<String, Long>> run(String java, List<String> flags, Path agentJar, String classPath,
                                              Path work) throws Exception {
        Map<String, Map<String, Long>> r = new LinkedHashMap<>();
        for (String variant : List.of("on", "off")) {
            Path dir = Files.createDirectories(work.resolve("concurrent-budget-" + variant));
            List<String> command = new ArrayList<>(List.of(java));
            command.addAll(flags);
            command.add("-javaagent:" + agentJar + "=budget.scope=global,budget.max-tokens=" + LIMIT
                    + (variant.equals("off") ? ",budget.reserve-output=off" : ""));
            command.addAll(List.of("-cp", classPath, APP, String.valueOf(THREADS), String.valueOf(LIMIT), "50"));
            Path out = dir.resolve("stdout.txt");
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile())
                    .redirectError(dir.resolve("stderr.txt").toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("concurrent budget (" + variant + ") failed; see " + dir);
            }
            Map<String, Long> figures = new LinkedHashMap<>();
            for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                if (line.startsWith("RESULT ")) {
                    for (String part : line.substring(7).split(" ")) {
                        String[] kv = part.split("=");
                        figures.put(kv[0], Long.parseLong(kv[1]));
                    }
                }
            }
            System.out.println("concurrent budget, reservation " + variant + ": " + figures);
            r.put(variant, figures);
        }
        return r;
    }

    /** The rows of the benchmark's table (same columns: metric, none, tokenguard, otel, target, met?). */
    static List<String> rows(Map<String, Map<String, Long>> r) {
        Map<String, Long> on = r.get("on");
        Map<String, Long> off = r.get("off");
        String what = THREADS + " threads, one global budget of " + String.format(Locale.ROOT, "%,d", LIMIT)
                + " tokens, no output cap, server answers after 50 ms";
        List<String> rows = new ArrayList<>();
        rows.add("| " + what + ": tokens charged past the limit, reservation on / off |  | " + on.get("past") + " / "
                + off.get("past") + " |  | on: <= one call's tokens (largest call " + on.get("largest") + ") | "
                + (on.get("past") <= on.get("largest") ? "yes" : "**no**") + " |");
        rows.add("| " + what + ": requests answered after exhaustion, reservation on / off |  | "
                + on.get("afterExhaustion") + " / " + off.get("afterExhaustion") + " |  | on: 0 | "
                + (on.get("afterExhaustion") == 0 ? "yes" : "**no**") + " |");
        return rows;
    }
}
