package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The aggregation of a session-log directory that both the text and the HTML report print: totals per
 * session, model, provider, call site and scope, and the same figures per hour of the log's timeline.
 *
 * <p>Models are grouped by {@code request_model} (the model the app asked for, which is also what a
 * refused call names), falling back to {@code response_model}. A {@code budget_warning} has no model
 * of its own; it counts for its session and for the model, provider, call site and scope of the
 * session's preceding {@code llm_call} (the call that crossed the threshold).
 *
 * <p>Memory grows with the number of distinct keys and of hours that hold an event, never with the
 * number of calls.
 */
final class UsageTotals {

    static final String UNKNOWN = "(unknown)";
    private static final long HOUR_SECONDS = 3_600;

    final Map<String, Stats> sessions = new TreeMap<>();
    final Map<String, Stats> models = new TreeMap<>();
    final Map<String, Stats> providers = new TreeMap<>();
    final Map<String, Stats> callSites = new TreeMap<>();
    /** Per scope key ({@code thread:...}, {@code mdc:user=...}, {@code global}), from each session's {@code session_start}. */
    final Map<String, Stats> scopes = new TreeMap<>();
    /** model -> the provider that served it (the last one seen, when several did). */
    final Map<String, String> modelProviders = new HashMap<>();
    /** Epoch hour -> what happened in that hour. Only hours that hold an event are present. */
    final TreeMap<Long, Hour> hours = new TreeMap<>();
    /** Timestamps of the earliest and latest event, null until an event with a readable {@code ts} is read. */
    Instant first;
    Instant last;
    /** Calls, warnings and refusals whose {@code ts} is missing or unreadable: counted, but not on the timeline. */
    long undated;

    /** session -> {provider, model, call site} of its latest llm_call. */
    private final Map<String, String[]> lastCall = new HashMap<>();
    /** session -> its scope key. */
    private final Map<String, String> sessionScopes = new HashMap<>();

    /** What happened in one hour: per series ({@code provider / model}), and the warnings and refusals. */
    static final class Hour {
        final Map<String, Stats> series = new HashMap<>();
        long warnings;
        long refusals;
    }

    void add(JsonNode event) {
        String session = text(event, "session");
        Instant ts = timestamp(event);
        switch (event.path("event").asText("")) {
            case "llm_call" -> {
                String provider = text(event, "provider");
                String model = model(event);
                String callSite = text(event, "call_site");
                lastCall.put(session, new String[] {provider, model, callSite});
                modelProviders.put(model, provider);
                for (Stats stats : List.of(stats(sessions, session), stats(models, model), stats(providers, provider),
                        stats(callSites, callSite), stats(scopes, scopeOf(session)))) {
                    stats.addCall(event);
                }
                Hour hour = hour(ts);
                if (hour != null) {
                    stats(hour.series, seriesKey(provider, model)).addCall(event);
                }
            }
            case "budget_warning" -> {
                stats(sessions, session).warnings++;
                stats(scopes, scopeOf(session)).warnings++;
                String[] call = lastCall.get(session);
                if (call != null) {
                    stats(providers, call[0]).warnings++;
                    stats(models, call[1]).warnings++;
                    stats(callSites, call[2]).warnings++;
                }
                Hour hour = hour(ts);
                if (hour != null) {
                    hour.warnings++;
                }
            }
            case "budget_exceeded" -> {
                stats(sessions, session).refusals++;
                stats(scopes, scopeOf(session)).refusals++;
                stats(models, model(event)).refusals++;
                stats(providers, text(event, "provider")).refusals++;
                stats(callSites, text(event, "call_site")).refusals++;
                Hour hour = hour(ts);
                if (hour != null) {
                    hour.refusals++;
                }
            }
            case "session_start" -> {
                sessionScopes.put(session, text(event, "scope"));
                stats(sessions, session);
                seen(ts);
            }
            case "budget_changed" -> seen(ts); // a live change spends nothing and belongs to no session's usage
            default -> {
                stats(sessions, session); // the session shows up even without calls
                seen(ts);
            }
        }
    }

    /** The sum of every session's row. */
    Stats all() {
        Stats all = new Stats();
        sessions.values().forEach(all::addAll);
        return all;
    }

    /** The label of one timeline series. */
    static String seriesKey(String provider, String model) {
        return provider + " / " + model;
    }

    private String scopeOf(String session) {
        return sessionScopes.getOrDefault(session, UNKNOWN);
    }

    private Hour hour(Instant ts) {
        if (ts == null) {
            undated++;
            return null;
        }
        seen(ts);
        return hours.computeIfAbsent(Math.floorDiv(ts.getEpochSecond(), HOUR_SECONDS), h -> new Hour());
    }

    private void seen(Instant ts) {
        if (ts == null) {
            return;
        }
        if (first == null || ts.isBefore(first)) {
            first = ts;
        }
        if (last == null || ts.isAfter(last)) {
            last = ts;
        }
    }

    /** The event's {@code ts}; null when missing, unreadable or outside the years 0000 to 9999. */
    private static Instant timestamp(JsonNode event) {
        JsonNode ts = event.get("ts");
        if (ts == null || !ts.isTextual()) {
            return null;
        }
        Instant instant;
        try {
            instant = Instant.parse(ts.asText());
        } catch (DateTimeParseException e) {
            try {
                instant = OffsetDateTime.parse(ts.asText()).toInstant();
            } catch (DateTimeParseException again) {
                return null;
            }
        }
        return instant.isBefore(EARLIEST) || instant.isAfter(LATEST) ? null : instant;
    }

    private static final Instant EARLIEST = Instant.parse("0000-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999999Z");

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

    /** Totals of one row. */
    static final class Stats {
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

        private static long number(JsonNode event, String field) {
            JsonNode value = event.get(field);
            return value != null && value.isNumber() ? value.asLong() : 0L;
        }
    }
}
