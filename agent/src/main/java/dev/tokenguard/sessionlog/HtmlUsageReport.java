package dev.tokenguard.sessionlog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report --html FILE}: the totals of {@link UsageTotals} as one self-contained HTML page: spend over
 * time as inline SVG charts ({@link StackedBarChart}), the top scopes and call sites by spend, tables per
 * model and provider with their totals, the period covered and what was read.
 *
 * <p>The page loads nothing and runs nothing: CSS and SVG are inline, there is no script, and its
 * Content-Security-Policy forbids every fetch and script, so it opens offline, from a mail attachment
 * or an artefact store alike. Every value that comes from the log (scope keys, which hold MDC values,
 * model names, call sites) is HTML-escaped and cut to a bounded length; tables show the top rows and
 * sum the rest into one row, so the page stays small whatever the log holds.
 */
final class HtmlUsageReport {

    static final int TOP_SCOPES = 20;
    static final int TOP_CALL_SITES = 20;
    static final int TOP_MODELS = 40;
    static final int TOP_PROVIDERS = 40;
    /** Longest key shown in a table cell, in characters; the cell's tooltip holds up to {@value #MAX_TITLE}. */
    static final int MAX_KEY = 90;
    static final int MAX_TITLE = 600;
    static final int MAX_FILE_ERRORS = 20;
    /** Shown for an {@code llm_call} without {@code call_site}. */
    static final String NO_CALL_SITE = "—";

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private HtmlUsageReport() {
    }

    /** Writes the page of {@code totals} (read from {@code dir}) to {@code file}, replacing it. */
    static void write(Path file, Path dir, UsageTotals totals, SessionLogReader.Scan scan) throws IOException {
        Files.writeString(file, render(dir.toString(), totals, scan, Instant.now()), StandardCharsets.UTF_8);
    }

    static String render(String dir, UsageTotals totals, SessionLogReader.Scan scan, Instant generated) {
        UsageTotals.Stats all = totals.all();
        StringBuilder html = new StringBuilder(32_768);
        html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>TokenGuard usage report</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n<main>\n");

        html.append("<header>\n<h1>TokenGuard usage report</h1>\n<p class=\"meta\">")
                .append(period(totals)).append("</p>\n<p class=\"meta\">")
                .append(count(scan.files(), "session file")).append(" read from <code>").append(escape(cut(dir, MAX_TITLE)))
                .append("</code> · ").append(count(scan.events(), "event")).append(" · <span id=\"skipped\">")
                .append(count(scan.unreadableLines(), "unreadable line")).append(" skipped</span>")
                .append(" · generated ").append(TIME.format(generated)).append("</p>\n");
        if (!scan.fileErrors().isEmpty()) {
            html.append("<ul class=\"errors\">\n");
            scan.fileErrors().stream().limit(MAX_FILE_ERRORS)
                    .forEach(e -> html.append("<li>").append(escape(cut(e, MAX_TITLE))).append("</li>\n"));
            if (scan.fileErrors().size() > MAX_FILE_ERRORS) {
                html.append("<li>and ").append(scan.fileErrors().size() - MAX_FILE_ERRORS).append(" more</li>\n");
            }
            html.append("</ul>\n");
        }
        html.append("</header>\n");

        html.append("<section class=\"cards\">\n")
                .append(card("calls", group(all.calls)))
                .append(card("tokens", group(all.totalTokens)))
                .append(card("cost", usdCell(all)))
                .append(card("warnings", group(all.warnings)))
                .append(card("refusals", group(all.refusals)))
                .append("</section>\n");

        timeline(html, totals);

        table(html, "top-scopes", "Top scopes by spend", "scope", totals.scopes, TOP_SCOPES, true, null, false);
        table(html, "top-call-sites", "Top call sites by spend", "call site", totals.callSites, TOP_CALL_SITES, true, null,
                true);
        table(html, "by-model", "By model", "model", totals.models, TOP_MODELS, false, totals.modelProviders, false);
        table(html, "by-provider", "By provider", "provider", totals.providers, TOP_PROVIDERS, false, null, false);

        html.append("<footer>\n<p>Tokens are input + output as the providers reported them, or estimated where they"
                + " reported none. Costs are estimates from TokenGuard's price table; a cost marked * covers only the"
                + " priced calls of its row, and — means no call of the row was priced. A budget warning counts for"
                + " the call that crossed the threshold; a call or refusal logged without its call site counts under —.</p>\n</footer>\n</main>\n</body>\n</html>\n");
        return html.toString();
    }

    private static void timeline(StringBuilder html, UsageTotals totals) {
        html.append("<section id=\"timeline\">\n");
        SpendTimeline timeline = SpendTimeline.of(totals.hours);
        if (timeline == null) {
            html.append("<h2>Spend over time</h2>\n<p class=\"empty\">No call, warning or refusal with a time in this log.</p>\n");
        } else {
            String per = timeline.granularity.word;
            html.append("<h2>Spend over time, per ").append(per).append(" (UTC)</h2>\n<ul class=\"legend\">\n");
            for (String series : timeline.series) {
                html.append("<li><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"")
                        .append(StackedBarChart.colour(timeline, series)).append("\"/></svg>")
                        .append(escape(cut(series, MAX_KEY))).append("</li>\n");
            }
            html.append("<li><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><path d=\"M0 11 L12 11 L6 1 Z\" fill=\"")
                    .append(StackedBarChart.WARNING_COLOUR).append("\"/></svg>budget warning</li>\n")
                    .append("<li><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect x=\"1\" y=\"1\" width=\"10\" height=\"10\" fill=\"")
                    .append(StackedBarChart.REFUSAL_COLOUR).append("\"/></svg>refused call</li>\n</ul>\n");
            html.append("<h3>Tokens per ").append(per).append("</h3>\n")
                    .append(StackedBarChart.svg("chart-tokens", "Tokens per " + per, timeline, s -> s.totalTokens,
                            v -> group(Math.round(v)), v -> Long.toString(Math.round(v)), "tokens"));
            html.append("<h3>Cost per ").append(per).append(" (USD)</h3>\n")
                    .append(StackedBarChart.svg("chart-cost", "Cost per " + per + " in USD", timeline, s -> s.costUsd,
                            HtmlUsageReport::usd, v -> String.format(Locale.ROOT, "%.6f", v), "USD"));
        }
        if (totals.undated > 0) {
            html.append("<p class=\"note\">Calls, warnings and refusals without a readable time: ").append(group(totals.undated))
                    .append(" (in the tables, not on the charts).</p>\n");
        }
        html.append("</section>\n");
    }

    /**
     * One table: the rows with the most spend (cost, then tokens) first, at most {@code limit} of them, the
     * rest summed into one row, and the total of all rows.
     */
    private static void table(StringBuilder html, String id, String title, String keyName, Map<String, UsageTotals.Stats> rows,
                              int limit, boolean bySpend, Map<String, String> providers, boolean callSites) {
        List<Map.Entry<String, UsageTotals.Stats>> sorted = new ArrayList<>(rows.entrySet());
        if (bySpend) {
            // cost compared in whole nano-dollars: sums of the same prices in another order must tie
            sorted.sort(Comparator.comparing((Map.Entry<String, UsageTotals.Stats> e) -> Math.round(e.getValue().costUsd * 1e9))
                    .reversed()
                    .thenComparing(e -> e.getValue().totalTokens, Comparator.reverseOrder())
                    .thenComparing(Map.Entry::getKey));
        } else {
            sorted.sort(Comparator.comparing((Map.Entry<String, UsageTotals.Stats> e) -> e.getValue().totalTokens)
                    .reversed().thenComparing(Map.Entry::getKey));
        }
        UsageTotals.Stats total = new UsageTotals.Stats();
        rows.values().forEach(total::addAll);

        html.append("<section class=\"table\" id=\"").append(id).append("\">\n<h2>").append(title).append("</h2>\n");
        if (rows.isEmpty()) {
            html.append("<p class=\"empty\">nothing recorded</p>\n</section>\n");
            return;
        }
        html.append("<table>\n<thead><tr><th class=\"key\">").append(keyName).append("</th>");
        if (providers != null) {
            html.append("<th class=\"key\">provider</th>");
        }
        html.append("<th>calls</th><th>input</th><th>output</th><th>tokens</th><th>share</th><th>cost USD</th>")
                .append("<th>warnings</th><th>refusals</th></tr></thead>\n<tbody>\n");
        UsageTotals.Stats rest = new UsageTotals.Stats();
        int shown = 0;
        for (Map.Entry<String, UsageTotals.Stats> row : sorted) {
            if (shown == limit) {
                rest.addAll(row.getValue());
                continue;
            }
            shown++;
            String key = callSites && row.getKey().equals(UsageTotals.UNKNOWN) ? NO_CALL_SITE : row.getKey();
            html.append("<tr><td class=\"key\" title=\"").append(escape(cut(key, MAX_TITLE))).append("\">")
                    .append(escape(cut(key, MAX_KEY))).append("</td>");
            if (providers != null) {
                String provider = providers.get(row.getKey());
                html.append("<td class=\"key\">").append(escape(cut(provider == null ? NO_CALL_SITE : provider, MAX_KEY)))
                        .append("</td>");
            }
            cells(html, row.getValue(), total);
            html.append("</tr>\n");
        }
        if (sorted.size() > limit) {
            html.append("<tr class=\"rest\"><td class=\"key\">").append(count(sorted.size() - limit, "more " + keyName))
                    .append("</td>");
            if (providers != null) {
                html.append("<td></td>");
            }
            cells(html, rest, total);
            html.append("</tr>\n");
        }
        html.append("</tbody>\n<tfoot><tr><td class=\"key\">total</td>");
        if (providers != null) {
            html.append("<td></td>");
        }
        cells(html, total, total);
        html.append("</tr></tfoot>\n</table>\n</section>\n");
    }

    private static void cells(StringBuilder html, UsageTotals.Stats s, UsageTotals.Stats total) {
        double share = total.totalTokens == 0 ? 0 : 100.0 * s.totalTokens / total.totalTokens;
        html.append("<td>").append(group(s.calls)).append("</td><td>").append(group(s.inputTokens))
                .append("</td><td>").append(group(s.outputTokens)).append("</td><td class=\"tokens\">")
                .append(group(s.totalTokens)).append("</td><td class=\"share\"><span class=\"bar\" style=\"width:")
                .append(String.format(Locale.ROOT, "%.1f", share)).append("%\"></span>")
                .append(String.format(Locale.ROOT, "%.0f%%", share)).append("</td><td class=\"cost\">")
                .append(usdCell(s)).append("</td><td>").append(group(s.warnings)).append("</td><td>")
                .append(group(s.refusals)).append("</td>");
    }

    private static String period(UsageTotals totals) {
        if (totals.first == null) {
            return "No event with a readable time.";
        }
        Duration span = Duration.between(totals.first, totals.last);
        return "<span id=\"period\">" + TIME.format(totals.first) + " – " + TIME.format(totals.last) + "</span> ("
                + span(span) + ")";
    }

    private static String span(Duration d) {
        if (d.toDays() >= 2) {
            return d.toDays() + " days";
        }
        if (d.toHours() >= 1) {
            return d.toHours() + " h " + d.toMinutesPart() + " min";
        }
        if (d.toMinutes() >= 1) {
            return d.toMinutes() + " min " + d.toSecondsPart() + " s";
        }
        return d.toSeconds() + " s";
    }

    private static String card(String name, String value) {
        return "<div class=\"card\" id=\"card-" + name + "\"><div class=\"value\">" + value + "</div><div class=\"name\">"
                + name + "</div></div>\n";
    }

    private static String usdCell(UsageTotals.Stats s) {
        if (s.priced == 0) {
            return "—";
        }
        return usd(s.costUsd) + (s.unpriced > 0 ? "*" : "");
    }

    /**
     * A dollar figure with the precision its size needs and no trailing zeros past the cents: $1,234.57,
     * $12.3457, $0.0045, $0.012345.
     */
    static String usd(double v) {
        if (v >= 100) {
            return String.format(Locale.ROOT, "$%,.2f", v);
        }
        String text = String.format(Locale.ROOT, v >= 1 ? "%.4f" : "%.6f", v);
        int end = text.length();
        while (end > text.indexOf('.') + 3 && text.charAt(end - 1) == '0') {
            end--;
        }
        return "$" + text.substring(0, end);
    }

    static String group(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    private static String count(long n, String noun) {
        return group(n) + " " + noun + (n == 1 ? "" : noun.endsWith("s") ? "es" : "s");
    }

    /** At most {@code max} characters (code points), the last of them an ellipsis when cut. */
    static String cut(String text, int max) {
        if (text.codePointCount(0, text.length()) <= max) {
            return text;
        }
        return text.substring(0, text.offsetByCodePoints(0, max - 1)) + "…";
    }

    /**
     * Text safe in HTML element content and in quoted attribute values: {@code & < > " '} become
     * character references; control characters and lone surrogates, which have no business in a page,
     * become U+FFFD.
     */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                        out.append(c).append(text.charAt(++i));
                    } else if (Character.isSurrogate(c) || (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7f && c < 0xa0)) {
                        out.append('\uFFFD');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private static final String CSS = """
            :root { color-scheme: light; --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --head: #f0f4f8; }
            * { box-sizing: border-box; }
            body { margin: 0; color: var(--ink); background: #fff;
                   font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
                   -webkit-print-color-adjust: exact; print-color-adjust: exact; }
            main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 32px; }
            h1 { font-size: 22px; margin: 0 0 4px; }
            h2 { font-size: 17px; margin: 26px 0 8px; }
            h3 { font-size: 14px; margin: 14px 0 2px; color: var(--muted); font-weight: 600; }
            code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
            .meta { margin: 2px 0; color: var(--muted); }
            .errors { color: #b91c1c; }
            .cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
            .card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
            .card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
            .card .name { color: var(--muted); text-transform: uppercase; font-size: 11px; letter-spacing: .06em; }
            .legend { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
            .legend li { display: flex; align-items: center; gap: 6px; }
            svg.chart { width: 100%; height: auto; display: block; }
            svg.chart text { font-size: 11px; fill: var(--muted); }
            svg.chart text.total { font-size: 13px; font-weight: 600; fill: var(--ink); }
            svg.chart text.count { font-size: 10px; font-weight: 600; fill: var(--ink); }
            svg.chart .grid { stroke: #e4e7eb; stroke-width: 1; }
            svg.chart .baseline { stroke: #9aa5b1; stroke-width: 1; }
            table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
            th, td { padding: 4px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--line); }
            th { background: var(--head); font-weight: 600; font-size: 12px; }
            .key { text-align: left; white-space: normal; overflow-wrap: anywhere; }
            td.key { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
            tfoot td { font-weight: 600; border-top: 2px solid #9aa5b1; border-bottom: none; }
            tr.rest td { color: var(--muted); font-style: italic; }
            td.share { min-width: 70px; position: relative; }
            td.share .bar { position: absolute; left: 4px; top: 7px; bottom: 7px; background: #dbe7f3; z-index: -1; }
            td.share { z-index: 0; }
            .empty, .note, footer { color: var(--muted); }
            footer { margin-top: 28px; font-size: 12px; border-top: 1px solid var(--line); }
            @media print {
              main { max-width: none; padding: 0; }
              body { font-size: 11px; }
              section, table, svg.chart { break-inside: avoid; page-break-inside: avoid; }
            }
            """;
}
