package dev.tokenguard.sessionlog;

import java.util.List;
import java.util.function.DoubleFunction;
import java.util.function.ToDoubleFunction;

/**
 * Draws one {@link SpendTimeline} as an inline SVG stacked bar chart: one bar per bucket, one colour per
 * series, a lane above the bars that marks budget warnings (amber triangles) and refusals (red squares)
 * with their counts, and the chart's total in its corner. Written by hand rather than with a chart
 * library: the page must load nothing and run no script, and a bar chart is a few dozen lines of SVG.
 *
 * <p>Each bar segment carries its figure in {@code data-value} and the chart its sum in {@code data-total},
 * so a reader of the DOM (and the report's browser test) can check the picture against the log.
 */
final class StackedBarChart {

    /** Colours of the series in rank order (a colour-blind-safe palette without red, which marks refusals). */
    static final String[] COLOURS =
            {"#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#ff9da7"};
    static final String OTHER_COLOUR = "#bab0ac";
    static final String WARNING_COLOUR = "#d97706";
    static final String REFUSAL_COLOUR = "#b91c1c";

    private static final int WIDTH = 960;
    private static final int HEIGHT = 300;
    private static final int LEFT = 76;
    private static final int RIGHT = 16;
    private static final int TOP = 56;
    private static final int BOTTOM = 40;
    private static final int X_LABELS = 8;

    private StackedBarChart() {
    }

    static String colour(SpendTimeline timeline, String series) {
        int rank = timeline.series.indexOf(series);
        return series.equals(SpendTimeline.OTHER) || rank < 0 ? OTHER_COLOUR : COLOURS[rank % COLOURS.length];
    }

    /**
     * @param id      the SVG element's id
     * @param title   what the chart shows, e.g. "Tokens per hour"
     * @param value   the figure of one series in one bucket
     * @param format  how a figure is written (axis, tooltips, total)
     * @param exact   how a figure is written into {@code data-value} and {@code data-total}
     * @param unit    the word after the total, e.g. "tokens"
     */
    static String svg(String id, String title, SpendTimeline timeline, ToDoubleFunction<UsageTotals.Stats> value,
                      DoubleFunction<String> format, DoubleFunction<String> exact, String unit) {
        double total = 0;
        double max = 0;
        for (SpendTimeline.Bucket bucket : timeline.buckets) {
            double stack = 0;
            for (UsageTotals.Stats stats : bucket.series.values()) {
                stack += value.applyAsDouble(stats);
            }
            total += stack;
            max = Math.max(max, stack);
        }
        double top = 4 * niceCeiling(max / 4); // four grid steps of a round size
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        double slot = (double) plotWidth / timeline.slots;
        double barWidth = Math.min(56, Math.max(1, slot * 0.72));

        StringBuilder svg = new StringBuilder(4_096);
        svg.append("<svg class=\"chart\" id=\"").append(id).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ')
                .append(HEIGHT).append("\" role=\"img\" aria-label=\"").append(HtmlUsageReport.escape(title))
                .append("\" data-total=\"").append(exact.apply(total)).append("\" data-granularity=\"")
                .append(timeline.granularity.word).append("\">\n");
        svg.append("<text class=\"total\" x=\"").append(LEFT).append("\" y=\"14\">total ")
                .append(HtmlUsageReport.escape(format.apply(total))).append(' ').append(unit).append("</text>\n");

        // grid and y axis
        for (int i = 0; i <= 4; i++) {
            double y = TOP + plotHeight - plotHeight * i / 4.0;
            svg.append("<line class=\"grid\" x1=\"").append(LEFT).append("\" x2=\"").append(WIDTH - RIGHT)
                    .append("\" y1=\"").append(px(y)).append("\" y2=\"").append(px(y)).append("\"/>")
                    .append("<text class=\"axis\" x=\"").append(LEFT - 6).append("\" y=\"").append(px(y + 4))
                    .append("\" text-anchor=\"end\">").append(HtmlUsageReport.escape(format.apply(top * i / 4)))
                    .append("</text>\n");
        }

        // x labels, at most X_LABELS of them, evenly spaced over the span
        long step = Math.max(1, (timeline.slots + X_LABELS - 1) / X_LABELS);
        for (long n = 0; n < timeline.slots; n += step) {
            double x = LEFT + slot * (n + 0.5);
            svg.append("<text class=\"axis\" x=\"").append(px(x)).append("\" y=\"").append(HEIGHT - BOTTOM + 16)
                    .append("\" text-anchor=\"middle\">")
                    .append(HtmlUsageReport.escape(timeline.granularity.label(timeline.first + n))).append("</text>\n");
        }

        // bars
        for (SpendTimeline.Bucket bucket : timeline.buckets) {
            double centre = LEFT + slot * (bucket.index - timeline.first + 0.5);
            double x = centre - barWidth / 2;
            double base = TOP + plotHeight;
            svg.append("<g class=\"bucket\" data-bucket=\"").append(HtmlUsageReport.escape(bucket.label)).append("\">");
            for (String series : timeline.series) {
                UsageTotals.Stats stats = bucket.series.get(series);
                double v = stats == null ? 0 : value.applyAsDouble(stats);
                if (v <= 0) {
                    continue;
                }
                double h = top == 0 ? 0 : plotHeight * v / top;
                base -= h;
                svg.append("<rect class=\"bar\" x=\"").append(px(x)).append("\" y=\"").append(px(base))
                        .append("\" width=\"").append(px(barWidth)).append("\" height=\"").append(px(h))
                        .append("\" fill=\"").append(colour(timeline, series)).append("\" data-series=\"")
                        .append(HtmlUsageReport.escape(series)).append("\" data-value=\"").append(exact.apply(v))
                        .append("\"><title>").append(HtmlUsageReport.escape(bucket.label + " · " + series + ": "
                                + format.apply(v) + " " + unit)).append("</title></rect>");
            }
            svg.append("</g>\n");
            marks(svg, bucket, centre);
        }

        svg.append("<line class=\"baseline\" x1=\"").append(LEFT).append("\" x2=\"").append(WIDTH - RIGHT)
                .append("\" y1=\"").append(TOP + plotHeight).append("\" y2=\"").append(TOP + plotHeight)
                .append("\"/>\n</svg>\n");
        return svg.toString();
    }

    /** Warnings and refusals of a bucket: a symbol with a count in the lane above the bars, and a dashed rule. */
    private static void marks(StringBuilder svg, SpendTimeline.Bucket bucket, double centre) {
        double plotBottom = HEIGHT - BOTTOM;
        if (bucket.warnings > 0) {
            double x = bucket.refusals > 0 ? centre - 9 : centre;
            svg.append("<g class=\"marker warning\" data-count=\"").append(bucket.warnings).append("\"><title>")
                    .append(bucket.warnings).append(" budget warning(s) · ").append(HtmlUsageReport.escape(bucket.label))
                    .append("</title><line x1=\"").append(px(x)).append("\" x2=\"").append(px(x))
                    .append("\" y1=\"").append(TOP - 4).append("\" y2=\"").append(px(plotBottom))
                    .append("\" stroke=\"").append(WARNING_COLOUR).append("\" stroke-dasharray=\"3 3\" stroke-width=\"1\"/>")
                    .append("<path d=\"M").append(px(x - 6)).append(' ').append(TOP - 8).append(" L").append(px(x + 6))
                    .append(' ').append(TOP - 8).append(" L").append(px(x)).append(' ').append(TOP - 18)
                    .append(" Z\" fill=\"").append(WARNING_COLOUR).append("\"/><text class=\"count\" x=\"")
                    .append(px(x)).append("\" y=\"").append(TOP - 21).append("\" text-anchor=\"middle\">")
                    .append(bucket.warnings).append("</text></g>\n");
        }
        if (bucket.refusals > 0) {
            double x = bucket.warnings > 0 ? centre + 9 : centre;
            svg.append("<g class=\"marker refusal\" data-count=\"").append(bucket.refusals).append("\"><title>")
                    .append(bucket.refusals).append(" refused call(s) · ").append(HtmlUsageReport.escape(bucket.label))
                    .append("</title><line x1=\"").append(px(x)).append("\" x2=\"").append(px(x))
                    .append("\" y1=\"").append(TOP - 4).append("\" y2=\"").append(px(plotBottom))
                    .append("\" stroke=\"").append(REFUSAL_COLOUR).append("\" stroke-dasharray=\"2 2\" stroke-width=\"1\"/>")
                    .append("<rect x=\"").append(px(x - 5)).append("\" y=\"").append(TOP - 17)
                    .append("\" width=\"10\" height=\"10\" fill=\"").append(REFUSAL_COLOUR).append("\"/><text class=\"count\" x=\"")
                    .append(px(x)).append("\" y=\"").append(TOP - 21).append("\" text-anchor=\"middle\">")
                    .append(bucket.refusals).append("</text></g>\n");
        }
    }

    /** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least {@code max} (1 for nothing). */
    static double niceCeiling(double max) {
        if (!(max > 0)) {
            return 1;
        }
        double power = Math.pow(10, Math.floor(Math.log10(max)));
        for (double m : List.of(1.0, 2.0, 2.5, 5.0, 10.0)) {
            if (m * power >= max * (1 - 1e-12)) {
                return m * power;
            }
        }
        return 10 * power;
    }

    private static String px(double v) {
        return Double.toString(Math.round(v * 10) / 10.0);
    }
}
