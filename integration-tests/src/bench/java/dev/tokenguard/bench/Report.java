package dev.tokenguard.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Turns the benchmark's measurements into one Markdown table with each target and whether it is met. */
final class Report {
    private final Bench.Settings settings;
    private final String otelVersion;
    private final Map<String, List<Double>> startup;
    private final Map<String, Map<String, List<Double>>> calls;
    private final Map<String, Double> scopes;
    private final Map<String, Double> jmh;
    private final List<String> rows = new ArrayList<>();

    Report(Bench.Settings settings, String otelVersion, Map<String, List<Double>> startup,
           Map<String, Map<String, List<Double>>> calls, Map<String, Double> scopes, Map<String, Double> jmh) {
        this.settings = settings;
        this.otelVersion = otelVersion;
        this.startup = startup;
        this.calls = calls;
        this.scopes = scopes;
        this.jmh = jmh;
    }

    String markdown() {
        row("metric", "none", "tokenguard", "otel-agent " + otelVersion, "target", "met?");
        row("---", "---:", "---:", "---:", "---", "---");

        startupRows();

        double cNone = medianOf(Bench.NONE, "calls_per_s");
        double cTg = medianOf(Bench.TOKENGUARD, "calls_per_s");
        double cOtel = medianOf(Bench.OTEL, "calls_per_s");
        row("sync chat calls/s, zero-delay server (median of " + settings.callRounds() + " runs of "
                        + settings.measured() + " calls)",
                withRange(calls.get(Bench.NONE).get("calls_per_s"), "%.0f"),
                withRange(calls.get(Bench.TOKENGUARD).get("calls_per_s"), "%.0f"),
                withRange(calls.get(Bench.OTEL).get("calls_per_s"), "%.0f"), "", "");
        double lossTg = 100 * (1 - cTg / cNone);
        double lossOtel = 100 * (1 - cOtel / cNone);
        row("throughput lost vs none", "", f("%.1f %%", lossTg), f("%.1f %%", lossOtel),
                "<= 2 % and below otel's", met(lossTg <= 2 && lossTg < lossOtel));
        for (String key : List.of("p50_us", "p99_us")) {
            double none = medianOf(Bench.NONE, key);
            row("per-call latency " + key.replace("_us", "") + ", us (added vs none)", f("%.0f", none),
                    added(medianOf(Bench.TOKENGUARD, key), none), added(medianOf(Bench.OTEL, key), none), "", "");
        }
        double aNone = medianOf(Bench.NONE, "alloc_bytes_per_call");
        row("allocated bytes per call, all threads (added vs none)", f("%.0f", aNone),
                added(medianOf(Bench.TOKENGUARD, "alloc_bytes_per_call"), aNone),
                added(medianOf(Bench.OTEL, "alloc_bytes_per_call"), aNone), "", "");
        double hNone = medianOf(Bench.NONE, "heap_after_bytes") / 1e6;
        row("used heap after " + settings.total() + " calls and a full GC, MB (one run; added vs none)", f("%.1f", hNone),
                added(medianOf(Bench.TOKENGUARD, "heap_after_bytes") / 1e6, hNone, "%.1f"),
                added(medianOf(Bench.OTEL, "heap_after_bytes") / 1e6, hNone, "%.1f"), "", "");
        row("heap growth from warm-up to " + settings.total() + " calls, KB",
                f("%.0f", medianOf(Bench.NONE, "heap_growth_bytes") / 1e3),
                f("%.0f", medianOf(Bench.TOKENGUARD, "heap_growth_bytes") / 1e3),
                f("%.0f", medianOf(Bench.OTEL, "heap_growth_bytes") / 1e3), "", "");

        idleScopeRows();
        double vtBefore = scopes.getOrDefault("vt_heap_before_bytes", Double.NaN);
        double vtEnded = scopes.getOrDefault("vt_heap_ended_bytes", Double.NaN);
        double vtReaped = scopes.getOrDefault("vt_heap_reaped_bytes", Double.NaN);
        double vtAgain = scopes.getOrDefault("vt_heap_second_round_bytes", Double.NaN);
        String vtJava = scopes.containsKey("vt_java") ? "Java " + f("%.0f", scopes.get("vt_java")) : "no Java 21+";
        String n = f("%,.0f", (double) settings.virtualThreads());
        row("virtual threads, thread scope (" + vtJava + "): used heap after GC before / after " + n + " virtual "
                        + "threads x 1 call ended and reaped / after " + n + " more, MB", "",
                f("%.1f", vtBefore / 1e6) + " / " + f("%.1f", vtReaped / 1e6) + " / " + f("%.1f", vtAgain / 1e6)
                        + " (second round " + f("%+.0f", (vtAgain - vtReaped) / 1e3) + " KB; ended, before the reaper ran: "
                        + f("%.1f", vtEnded / 1e6) + " MB; scopes left "
                        + f("%.0f", scopes.getOrDefault("vt_live_scopes_after", Double.NaN)) + ")", "",
                "no growth: the second round adds <= 100 KB", met(vtAgain - vtReaped <= 100e3));

        double one = jmh.getOrDefault("chargeThreadScope@1", Double.NaN);
        double two = jmh.getOrDefault("chargeThreadScope@2", Double.NaN);
        row("JMH charges/s, 1 thread", "", f("%,.0f", one), "", ">= 10,000,000", met(one >= 10_000_000));
        row("JMH charges/s, 2 threads, own scopes (total)", "", f("%,.0f", two) + " (x" + f("%.2f", two / one) + ")",
                "", "no global lock: 2 threads do more than 1", met(two > one));
        double g1 = jmh.getOrDefault("chargeGlobalScope@1", Double.NaN);
        double g2 = jmh.getOrDefault("chargeGlobalScope@2", Double.NaN);
        row("JMH charges/s, one global scope, 1 / 2 threads", "", f("%,.0f", g1) + " / " + f("%,.0f", g2), "", "", "");
        row("JMH enter + check per call, 1 / 2 threads, ops/s", "",
                f("%,.0f", jmh.getOrDefault("enterAndCheck@1", Double.NaN)) + " / "
                        + f("%,.0f", jmh.getOrDefault("enterAndCheck@2", Double.NaN)), "", "", "");
        callSiteRows();
        return String.join("\n", rows) + "\n";
    }

    /** Only the call-site rows ({@code -Dbench.only=call-site}). */
    private void startupRows() {
        double sNone = median(startup.get(Bench.NONE));
        double sTg = median(startup.get(Bench.TOKENGUARD));
        double sOtel = median(startup.get(Bench.OTEL));
        row("startup: JVM start to first completed call, ms (median of " + settings.startupRuns() + ")",
                withRange(startup.get(Bench.NONE), "%.0f"), withRange(startup.get(Bench.TOKENGUARD), "%.0f"),
                withRange(startup.get(Bench.OTEL), "%.0f"), "", "");
        double addTg = sTg - sNone;
        double addOtel = sOtel - sNone;
        row("startup added vs none, ms", "", f("%+.0f", addTg) + " (" + f("%.1f", 100 * addTg / addOtel) + " % of otel's)",
                f("%+.0f", addOtel), "tokenguard's added <= 1/20 of otel's (" + f("%.0f", addOtel / 20) + " ms)",
                met(addTg <= addOtel / 20));
    }

    /** The start-up rows and the peak RSS of the same runs ({@code -Dbench.only=startup}). */
    String startupMarkdown(Map<String, List<Double>> rss) {
        row("metric", "none", "tokenguard", "otel-agent " + otelVersion, "target", "met?");
        row("---", "---:", "---:", "---:", "---", "---");
        startupRows();
        if (!rss.get(Bench.NONE).isEmpty()) {
            double none = median(rss.get(Bench.NONE));
            double addTg = median(rss.get(Bench.TOKENGUARD)) - none;
            double addOtel = median(rss.get(Bench.OTEL)) - none;
            row("peak RSS of the same runs, MB (median)", withRange(rss.get(Bench.NONE), "%.0f"),
                    withRange(rss.get(Bench.TOKENGUARD), "%.0f"), withRange(rss.get(Bench.OTEL), "%.0f"), "", "");
            row("peak RSS added vs none, MB", "", f("%+.0f", addTg) + " (" + f("%.1f", 100 * addTg / addOtel)
                    + " % of otel's)", f("%+.0f", addOtel), "tokenguard's added <= 1/5 of otel's ("
                    + f("%.0f", addOtel / 5) + " MB)", met(addTg <= addOtel / 5));
        }
        return String.join("\n", rows) + "\n";
    }

    String callSiteMarkdown() {
        row("metric", "none", "tokenguard", "otel-agent", "target", "met?");
        row("---", "---:", "---:", "---:", "---", "---");
        callSiteRows();
        return String.join("\n", rows) + "\n";
    }

    private void callSiteRows() {
        double site = 1e9 / jmh.getOrDefault("findCallSite@1", Double.NaN);
        double formatted = 1e9 / jmh.getOrDefault("findAndFormatCallSite@1", Double.NaN);
        row("JMH call site per call, ns, " + CallSiteBench.SDK_FRAMES + " SDK frames deep (found / found + formatted)",
                "", f("%,.0f", site) + " / " + f("%,.0f", formatted), "", "<= 5,000", met(formatted <= 5_000));
        double cpu = jmh.getOrDefault("callSiteCpuNanos", Double.NaN);
        row("call site per call, CPU ns of the calling thread (found + formatted, same stack)", "", f("%,.0f", cpu), "",
                "<= 5,000", met(cpu <= 5_000));
    }

    /**
     * Only the per-call rows ({@code -Dbench.only=per-call}), of the variants that ran, stable figures first:
     * allocation and CPU time per call do not depend on what else runs on the machine (much), wall-clock
     * throughput and latency do. Each cell is the median of the rounds with min–max.
     */
    String perCallMarkdown() {
        List<String> names = new ArrayList<>(calls.keySet());
        List<String> header = new ArrayList<>(List.of("metric (" + settings.callRounds() + " alternating rounds of "
                + settings.measured() + " calls after " + settings.warmUp() + " warm-up calls)"));
        List<String> align = new ArrayList<>(List.of("---"));
        for (String n : names) {
            header.add(n);
            align.add("---:");
        }
        row(header.toArray(String[]::new));
        row(align.toArray(String[]::new));
        perCallRow(names, "stable: allocated bytes per call, calling thread", "alloc_bytes_per_call_thread", "%.0f");
        perCallRow(names, "stable: allocated bytes per call, all threads", "alloc_bytes_per_call", "%.0f");
        perCallRow(names, "stable under light load: CPU ns per call, calling thread", "cpu_ns_per_call_thread", "%.0f");
        perCallRow(names, "CPU ns per call, whole JVM (GC, JIT)", "cpu_ns_per_call_process", "%.0f");
        perCallRow(names, "wall clock, not stable on a shared machine: calls/s", "calls_per_s", "%.0f");
        perCallRow(names, "wall clock, not stable on a shared machine: p50 us", "p50_us", "%.0f");
        perCallRow(names, "wall clock, not stable on a shared machine: p99 us", "p99_us", "%.0f");
        return String.join("\n", rows) + "\n";
    }

    private void perCallRow(List<String> names, String label, String key, String format) {
        List<String> cells = new ArrayList<>(List.of(label));
        double none = calls.containsKey(Bench.NONE) ? medianOf(Bench.NONE, key) : Double.NaN;
        for (String n : names) {
            List<Double> values = calls.get(n).get(key);
            String cell = values == null ? "" : withRange(values, format);
            if (values != null && !n.equals(Bench.NONE) && !Double.isNaN(none)) {
                cell += " (" + f(format.replace("%", "%+"), median(values) - none) + ")";
            }
            cells.add(cell);
        }
        row(cells.toArray(String[]::new));
    }

    /** Only the rows of the retained bytes per idle scope ({@code -Dbench.only=idle-scopes}). */
    String idleScopesMarkdown() {
        row("metric", "none", "tokenguard", "otel-agent", "target", "met?");
        row("---", "---:", "---:", "---:", "---", "---");
        idleScopeRows();
        return String.join("\n", rows) + "\n";
    }

    private void idleScopeRows() {
        scopeRow("retained bytes per idle mdc scope, engine (" + settings.mdcScopes() + " scopes)", "mdc_scope_bytes");
        scopeRow("retained bytes per idle mdc scope, engine + JSONL session log (" + settings.loggedScopes()
                + " scopes)", "mdc_scope_logged_bytes");
        scopeRow("retained bytes per idle thread scope, engine (" + settings.threads() + " parked threads)",
                "thread_scope_bytes");
    }

    private void scopeRow(String label, String key) {
        double bytes = scopes.getOrDefault(key, Double.NaN);
        row(label, "", f("%.0f", bytes), "", "<= 200", met(bytes <= 200));
    }

    private void row(String... cells) {
        rows.add("| " + String.join(" | ", cells) + " |");
    }

    private double medianOf(String variant, String key) {
        return median(calls.get(variant).get(key));
    }

    static double median(List<Double> values) {
        if (values == null || values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String withRange(List<Double> values, String format) {
        if (values.size() < 2) {
            return f(format, median(values));
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return f(format, median(values)) + " (" + f(format, sorted.get(0)) + "–" + f(format, sorted.get(sorted.size() - 1))
                + ")";
    }

    private static String added(double value, double none) {
        return added(value, none, "%.0f");
    }

    private static String added(double value, double none, String format) {
        return f(format, value) + " (" + f(format.replace("%", "%+"), value - none) + ", "
                + f("%+.1f", 100 * (value - none) / none) + " %)";
    }

    private static String met(boolean met) {
        return met ? "yes" : "**no**";
    }

    private static String f(String format, double value) {
        return String.format(Locale.ROOT, format, value);
    }
}
