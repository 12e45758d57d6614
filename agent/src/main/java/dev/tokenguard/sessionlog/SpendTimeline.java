package dev.tokenguard.sessionlog;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The log's hours rolled up into the buckets the HTML report draws: hours for a span of up to three
 * days, days up to four months, weeks (from Monday) up to two years, months beyond, so that a chart never
 * has more than about a hundred bars to draw whatever the span. Series are {@code provider / model};
 * the {@value #MAX_SERIES} that used the most tokens keep their own colour and the rest are one
 * {@value #OTHER} series.
 */
final class SpendTimeline {

    static final int MAX_SERIES = 8;
    static final String OTHER = "other models";

    /** How long one bar is. */
    enum Granularity {
        HOUR("hour", 72), DAY("day", 120), WEEK("week", 104), MONTH("month", Integer.MAX_VALUE);

        final String word;
        /** The most buckets a span may need for this granularity to be chosen. */
        final int maxBuckets;

        Granularity(String word, int maxBuckets) {
            this.word = word;
            this.maxBuckets = maxBuckets;
        }

        /** The bucket an epoch hour falls in, as a number that grows by one per bucket. */
        long index(long epochHour) {
            long epochDay = Math.floorDiv(epochHour, 24);
            return switch (this) {
                case HOUR -> epochHour;
                case DAY -> epochDay;
                case WEEK -> Math.floorDiv(epochDay - 4, 7); // 1970-01-05, epoch day 4, was a Monday
                case MONTH -> {
                    LocalDate date = LocalDate.ofEpochDay(epochDay);
                    yield date.getYear() * 12L + date.getMonthValue() - 1;
                }
            };
        }

        /** A short label of a bucket, UTC. */
        String label(long index) {
            return switch (this) {
                case HOUR -> LocalDateTime.ofEpochSecond(index * 3_600, 0, ZoneOffset.UTC).format(HOUR_LABEL);
                case DAY -> LocalDate.ofEpochDay(index).toString();
                case WEEK -> LocalDate.ofEpochDay(index * 7 + 4).toString();
                case MONTH -> String.format(Locale.ROOT, "%04d-%02d", Math.floorDiv(index, 12), Math.floorMod(index, 12) + 1);
            };
        }

        private static final DateTimeFormatter HOUR_LABEL = DateTimeFormatter.ofPattern("MM-dd HH:00", Locale.ROOT);
    }

    /** One bar: its label, its series' totals, and the warnings and refusals in it. */
    static final class Bucket {
        final long index;
        final String label;
        final Map<String, UsageTotals.Stats> series = new HashMap<>();
        long warnings;
        long refusals;

        Bucket(long index, String label) {
            this.index = index;
            this.label = label;
        }
    }

    final Granularity granularity;
    /** The index of the first bucket of the span; bucket {@code first + n} is drawn n slots to the right. */
    final long first;
    /** The number of slots from the first to the last bucket of the span, empty ones included. */
    final long slots;
    /** The buckets that hold something, in time order. */
    final List<Bucket> buckets;
    /** Series names, the one that used the most tokens first, {@link #OTHER} last when present. */
    final List<String> series;

    private SpendTimeline(Granularity granularity, long first, long slots, List<Bucket> buckets, List<String> series) {
        this.granularity = granularity;
        this.first = first;
        this.slots = slots;
        this.buckets = buckets;
        this.series = series;
    }

    /** The timeline of the totals' hours, or null when no event has a time. */
    static SpendTimeline of(TreeMap<Long, UsageTotals.Hour> hours) {
        if (hours.isEmpty()) {
            return null;
        }
        Granularity granularity = granularity(hours.firstKey(), hours.lastKey());

        Map<String, Long> tokensPerSeries = new HashMap<>();
        for (UsageTotals.Hour hour : hours.values()) {
            hour.series.forEach((name, stats) -> tokensPerSeries.merge(name, stats.totalTokens, Long::sum));
        }
        List<String> ranked = new ArrayList<>(tokensPerSeries.keySet());
        ranked.sort(Comparator.comparing((String name) -> tokensPerSeries.get(name)).reversed()
                .thenComparing(Comparator.naturalOrder()));
        List<String> series = ranked.size() <= MAX_SERIES ? ranked : new ArrayList<>(ranked.subList(0, MAX_SERIES - 1));
        if (ranked.size() > MAX_SERIES) {
            series.add(OTHER);
        }

        Map<Long, Bucket> buckets = new LinkedHashMap<>();
        for (Map.Entry<Long, UsageTotals.Hour> entry : hours.entrySet()) {
            long index = granularity.index(entry.getKey());
            Bucket bucket = buckets.computeIfAbsent(index, i -> new Bucket(i, granularity.label(i)));
            UsageTotals.Hour hour = entry.getValue();
            bucket.warnings += hour.warnings;
            bucket.refusals += hour.refusals;
            hour.series.forEach((name, stats) -> bucket.series
                    .computeIfAbsent(series.contains(name) ? name : OTHER, n -> new UsageTotals.Stats())
                    .addAll(stats));
        }
        long first = granularity.index(hours.firstKey());
        long slots = granularity.index(hours.lastKey()) - first + 1;
        return new SpendTimeline(granularity, first, slots, List.copyOf(buckets.values()), List.copyOf(series));
    }

    /** The finest granularity that spans the hours {@code first} to {@code last} in few enough buckets. */
    static Granularity granularity(long first, long last) {
        for (Granularity g : Granularity.values()) {
            if (g.index(last) - g.index(first) + 1 <= g.maxBuckets) {
                return g;
            }
        }
        return Granularity.MONTH;
    }
}
