package dev.tokenguard.sessionlog;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code report} command: reads a session-log directory and prints totals per session, per
 * model, per provider and per call site (calls, input/output/total tokens, cost, warnings, refusals), as
 * {@link UsageTotals} adds them up; with an HTML file named, it also writes {@link HtmlUsageReport}'s page
 * from the same totals.
 *
 * <p>Call sites ({@code call_site}, the application frame that made the call) are listed by total tokens,
 * highest first; calls logged without one count under {@code (unknown)}.
 */
public final class UsageReport {

    static final String UNKNOWN = UsageTotals.UNKNOWN;
    private static final String[] HEADER =
            {"calls", "input_tokens", "output_tokens", "total_tokens", "cost_usd", "warnings", "refusals"};

    private UsageReport() {
    }

    /**
     * @return 0 when the report was printed, 1 when some file could not be read at all (the report is
     *         still printed), 2 when {@code dir} is missing or not a directory
     */
    public static int run(Path dir, PrintStream out, PrintStream err) {
        return run(dir, null, out, err);
    }

    /**
     * The text report, and the HTML page written to {@code html} unless it is null.
     *
     * @return as {@link #run(Path, PrintStream, PrintStream)}; also 2 when the HTML file cannot be written
     */
    public static int run(Path dir, Path html, PrintStream out, PrintStream err) {
        if (dir == null || !Files.exists(dir)) {
            err.println("tokenguard report: session-log directory " + dir + " does not exist;"
                    + " expected the directory the agent writes to (tokenguard.session-log.dir, default tokenguard-sessions)");
            return 2;
        }
        if (!Files.isDirectory(dir)) {
            err.println("tokenguard report: " + dir + " is not a directory;"
                    + " expected the session-log directory (tokenguard.session-log.dir, default tokenguard-sessions)");
            return 2;
        }

        UsageTotals totals = new UsageTotals();
        SessionLogReader.Scan scan = SessionLogReader.scanDir(dir, totals::add);
        for (String error : scan.fileErrors()) {
            err.println("tokenguard report: " + error);
        }

        out.println("TokenGuard usage report for " + dir + ": " + scan.files() + " session file(s), "
                + scan.events() + " event(s)");
        if (scan.files() == 0) {
            out.println("no session logs (*.jsonl) in " + dir);
        } else {
            UsageTotals.Stats all = totals.all();
            printTable(out, "session", totals.sessions, all);
            printTable(out, "model", totals.models, null);
            printTable(out, "provider", totals.providers, null);
            printTable(out, "call site", bySpend(totals.callSites), null);
            if (all.priced > 0 && all.unpriced > 0) { // any row marked * implies this
                out.println();
                out.println("* cost of priced calls only: some calls used models missing from the price table");
            }
        }
        out.println();
        out.println("unreadable lines skipped: " + scan.unreadableLines());
        if (html != null) {
            try {
                HtmlUsageReport.write(html, dir, totals, scan);
            } catch (IOException | RuntimeException e) {
                err.println("tokenguard report: cannot write the HTML report to " + html + ": " + e
                        + "; expected a writable file path (its directory must exist)");
                return 2;
            }
            out.println("HTML report written to " + html);
        }
        return scan.fileErrors().isEmpty() ? 0 : 1;
    }

    /** The rows by total tokens, highest first, then by key. */
    private static Map<String, UsageTotals.Stats> bySpend(Map<String, UsageTotals.Stats> rows) {
        Map<String, UsageTotals.Stats> sorted = new LinkedHashMap<>();
        rows.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, UsageTotals.Stats> e) -> e.getValue().totalTokens)
                        .reversed().thenComparing(Map.Entry::getKey))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    private static void printTable(PrintStream out, String keyName, Map<String, UsageTotals.Stats> rows, UsageTotals.Stats total) {
        List<String[]> lines = new ArrayList<>();
        String[] header = new String[HEADER.length + 1];
        header[0] = keyName;
        System.arraycopy(HEADER, 0, header, 1, HEADER.length);
        lines.add(header);
        rows.forEach((key, stats) -> lines.add(row(key, stats)));
        if (total != null) {
            lines.add(row("TOTAL", total));
        }
        int[] widths = new int[header.length];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        out.println();
        out.println("By " + keyName);
        for (String[] line : lines) {
            StringBuilder text = new StringBuilder();
            text.append(line[0]).append(" ".repeat(widths[0] - line[0].length()));
            for (int i = 1; i < line.length; i++) {
                text.append("  ").append(" ".repeat(widths[i] - line[i].length())).append(line[i]);
            }
            out.println(text);
        }
    }

    private static String[] row(String key, UsageTotals.Stats stats) {
        String cost = stats.priced == 0 ? "-"
                : String.format(Locale.ROOT, "%.6f", stats.costUsd) + (stats.unpriced > 0 ? "*" : "");
        return new String[] {key, Long.toString(stats.calls), Long.toString(stats.inputTokens),
                Long.toString(stats.outputTokens), Long.toString(stats.totalTokens), cost,
                Long.toString(stats.warnings), Long.toString(stats.refusals)};
    }
}
