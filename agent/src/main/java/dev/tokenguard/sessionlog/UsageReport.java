package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code report} command: reads a session-log directory and prints totals per session, per
 * model, per provider and per call site (calls, input/output/total tokens, cost, warnings, refusals).
 *
 * <p>Models are grouped by {@code request_model} (the model the app asked for, which is also what a
 * refused call names), falling back to {@code response_model}. A {@code budget_warning} has no model
 * of its own; it counts for its session and for the model and provider of the session's preceding
 * {@code llm_call} (the call that crossed the threshold).
 *
 * <p>Call sites ({@code call_site}, the application frame that made the call) are listed by total tokens,
 * highest first; calls logged without one count under {@value #UNKNOWN}.
 */
public final class UsageReport {

    static final String UNKNOWN = "(unknown)";
    private static final String[] HEADER =
            {"calls", "input_tokens", "output_tokens", "total_tokens", "cost_usd", "warnings", "refusals"};

    private UsageReport() {
    }

    /**
     * @return 0 when the report was printed, 1 when some file could not be read at all (the report is
     *         still printed), 2 when {@code dir} is missing or not a directory
     */
    public static int run(Path dir, PrintStream out, PrintStream err) {
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

        Totals totals = new Totals();
        SessionLogReader.Scan scan = SessionLogReader.scanDir(dir, totals::add);
        for (String error : scan.fileErrors()) {
            err.println("tokenguard report: " + error);
        }

        out.println("TokenGuard usage report for " + dir + ": " + scan.files() + " session file(s), "
                + scan.events() + " event(s)");
        if (scan.files() == 0) {
            out.println("no session logs (*.jsonl) in " + dir);
        } else {
            Stats all = new Stats();
            totals.sessions.values().forEach(all::addAll);
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
        return scan.fileErrors().isEmpty() ? 0 : 1;
    }

    /** The rows by total tokens, highest first, then by key. */
    private static Map<String, Stats> bySpend(Map<String, Stats> rows) {
        Map<String, Stats> sorted = new LinkedHashMap<>();
        rows.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, Stats> e) -> e.getValue().totalTokens).reversed()
                        .thenComparing(Map.Entry::getKey))
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    private static void printTable(PrintStream out, String keyName, Map<String, Stats> rows, Stats total) {
        List<String[]> lines = new ArrayList<>();
        String[] header = new String[HEADER.length + 1];
        header[0] = keyName;
        System.arraycopy(HEADER, 0, header, 1, HEADER.length);
        lines.add(header);
        rows.forEach((key, stats) -> lines.add(stats.row(key)));
        if (total != null) {
            lines.add(total.row("TOTAL"));
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

    /** The aggregation of every event read. */
    private static final class Totals {
        final Map<String, Stats> sessions = new TreeMap<>();
        final Map<String, Stats> models = new TreeMap<>();
        final Map<String, Stats> providers = new TreeMap<>();
        final Map<String, Stats> callSites = new TreeMap<>();
        /** session -> {provider, model, call site} of its latest llm_call. */
        final Map<String, String[]> lastCall = new HashMap<>();

        void add(JsonNode event) {
            String session = text(event, "session");
            switch (event.path("event").asText("")) {
                case "llm_call" -> {
                    String provider = text(event, "provider");
                    String model = model(event);
                    String callSite = text(event, "call_site");
                    lastCall.put(session, new String[] {provider, model, callSite});
                    for (Stats stats : List.of(stats(sessions, session), stats(models, model), stats(providers, provider),
                            stats(callSites, callSite))) {
                        stats.addCall(event);
                    }
                }
                case "budget_warning" -> {
                    stats(sessions, session).warnings++;
                    String[] call = lastCall.get(session);
                    if (call != null) {
                        stats(providers, call[0]).warnings++;
                        stats(models, call[1]).warnings++;
                        stats(callSites, call[2]).warnings++;
                    }
                }
                case "budget_exceeded" -> {
                    stats(sessions, session).refusals++;
                    stats(models, model(event)).refusals++;
                    stats(providers, text(event, "provider")).refusals++;
                    stats(callSites, text(event, "call_site")).refusals++;
                }
                default -> stats(sessions, session); // the session shows up even without calls
            }
        }

        private static Stats stats(Map<String, Stats> map, String key) {
            return map.computeIfAbsent(key, k -> new Stats());
        }

        private static String model(JsonNode event) {
            String model = text(event, "request_model");
            return model.equals(UNKNOWN) ? text(event, "response_model") : model;
        }

        private static String text(JsonNode event, String field) {
            JsonNode value = event.get(field);
            return value == null || value.isNull() || value.asText().isEmpty() ? UNKNOWN : value.asText();
        }
    }

    /** Totals of one row. */
    private static final class Stats {
        long calls;
        long inputTokens;
        long outputTokens;
        long totalTokens;
        double costUsd;
        long priced;
        long unpriced;
        long warnings;
        long refusals;

        void addCall(JsonNode event) {
            calls++;
            long input = number(event, "input_tokens");
            long output = number(event, "output_tokens");
            inputTokens += input;
            outputTokens += output;
            JsonNode total = event.get("total_tokens");
            totalTokens += total != null && total.isNumber() ? total.asLong() : input + output;
            JsonNode cost = event.get("cost_usd");
            if (cost != null && cost.isNumber()) {
                costUsd += cost.asDouble();
                priced++;
            } else {
                unpriced++;
            }
        }

        void addAll(Stats other) {
            calls += other.calls;
            inputTokens += other.inputTokens;
            outputTokens += other.outputTokens;
            totalTokens += other.totalTokens;
            costUsd += other.costUsd;
            priced += other.priced;
            unpriced += other.unpriced;
            warnings += other.warnings;
            refusals += other.refusals;
        }

        String[] row(String key) {
            String cost = priced == 0 ? "-"
                    : String.format(Locale.ROOT, "%.6f", costUsd) + (unpriced > 0 ? "*" : "");
            return new String[] {key, Long.toString(calls), Long.toString(inputTokens), Long.toString(outputTokens),
                    Long.toString(totalTokens), cost, Long.toString(warnings), Long.toString(refusals)};
        }

        private static long number(JsonNode event, String field) {
            JsonNode value = event.get(field);
            return value != null && value.isNumber() ? value.asLong() : 0L;
        }
    }
}
