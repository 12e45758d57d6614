package dev.tokenguard.instrumentation;

import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What each OpenAI-compatible endpoint does with a chat stream's usage when the request does not ask for it
 * ({@code stream_options.include_usage}), learnt from the streams themselves.
 *
 * <p>OpenAI reports a stream's usage only on request, in one usage-only chunk; the agent asks, and hides that chunk
 * from an app that did not ask. Some OpenAI-compatible gateways send a usage chunk whether asked or not, and one that
 * sends exactly one cannot be told, on the wire, from a server that honours the ask: the same chunk comes back
 * either way. Hiding it would take from the app a chunk it sees without the agent. So the agent asks only where it
 * knows the answer to be its own:
 *
 * <ul>
 * <li>an endpoint not yet known: the stream goes out as the app built it (nothing asked, nothing hidden). A usage
 * chunk that comes anyway marks the endpoint {@link Habit#SENDS_UNASKED} and is charged; a stream that runs to its
 * end with a finish reason and no usage marks it {@link Habit#ASKED_ONLY} and is charged a local estimate (input
 * counted from the request, output from the streamed text). A stream that fails or is closed early teaches
 * nothing, and the next one probes again;</li>
 * <li>{@link Habit#ASKED_ONLY}: the agent asks, and hides the one usage-only chunk that asking adds;</li>
 * <li>{@link Habit#SENDS_UNASKED}: the agent never asks and never hides; the server's own chunk is charged.</li>
 * </ul>
 *
 * The providers' own hosts ({@code api.openai.com}, Azure OpenAI's {@code *.openai.azure.com} and
 * {@code *.cognitiveservices.azure.com}) are known to report usage only on request, so they are never probed. What is learnt lives as long as the JVM. An endpoint is its base
 * URL (scheme, host, port and path, without a trailing slash).
 */
public final class UnaskedStreamUsage {
    /** What an endpoint does with usage nobody asked for. */
    public enum Habit {
        /** Not known yet: the next stream that does not ask goes out unchanged and teaches it. */
        UNKNOWN,
        /** Sends usage only when asked: the agent asks and hides the chunk it added. */
        ASKED_ONLY,
        /** Sends a usage chunk whether asked or not: the agent neither asks nor hides. */
        SENDS_UNASKED
    }

    /** What to do with one stream whose request does not ask for usage. */
    public enum Plan {
        /** Ask for usage and hide the chunk that asking adds. */
        ASK_AND_HIDE,
        /** Send the request unchanged and learn from the stream ({@link #learn}). */
        PROBE,
        /** Send the request unchanged, hide nothing: the server sends its usage unasked. */
        LEAVE
    }

    /** Endpoints kept at most; past it, unknown endpoints are probed and not remembered (a bounded map). */
    static final int MAX_ENDPOINTS = 4096;

    private static final UnaskedStreamUsage SHARED = new UnaskedStreamUsage();

    private final Map<String, Habit> habits = new ConcurrentHashMap<>();

    /** The JVM's one record, shared by every layer that asks OpenAI chat streams for usage. */
    public static UnaskedStreamUsage shared() {
        return SHARED;
    }

    /** The key of a base URL: scheme, host (lower case), port and path without trailing slashes; null when unknown. */
    public static String endpoint(URI baseUrl) {
        if (baseUrl == null || baseUrl.getHost() == null) {
            return null;
        }
        String scheme = baseUrl.getScheme() == null ? "https" : baseUrl.getScheme().toLowerCase(Locale.ROOT);
        int port = baseUrl.getPort() >= 0 ? baseUrl.getPort() : "http".equals(scheme) ? 80 : 443;
        String path = baseUrl.getRawPath() == null ? "" : baseUrl.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return scheme + "://" + baseUrl.getHost().toLowerCase(Locale.ROOT) + ":" + port + path;
    }

    /** What is known of an endpoint (null: an endpoint that cannot be named, treated as the providers' hosts). */
    public Habit habit(String endpoint) {
        if (endpoint == null || isProviderHost(endpoint)) {
            return Habit.ASKED_ONLY;
        }
        return habits.getOrDefault(endpoint, Habit.UNKNOWN);
    }

    /** The plan for a stream to {@code endpoint} whose request does not ask for usage. */
    public Plan plan(String endpoint) {
        return switch (habit(endpoint)) {
            case ASKED_ONLY -> Plan.ASK_AND_HIDE;
            case SENDS_UNASKED -> Plan.LEAVE;
            case UNKNOWN -> Plan.PROBE;
        };
    }

    /**
     * What a probing stream showed.
     *
     * @param usageSeen whether a usage chunk (or a chunk without choices after the last finish reason) came
     * @param completed whether the stream ran to its end with a finish reason, so that no usage chunk can still come
     */
    public void learn(String endpoint, boolean usageSeen, boolean completed) {
        if (endpoint == null || isProviderHost(endpoint)) {
            return;
        }
        if (usageSeen) {
            remember(endpoint, Habit.SENDS_UNASKED); // wins over anything a concurrent probe concluded
        } else if (completed && habits.size() < MAX_ENDPOINTS) {
            habits.putIfAbsent(endpoint, Habit.ASKED_ONLY);
        }
    }

    private void remember(String endpoint, Habit habit) {
        if (habits.containsKey(endpoint) || habits.size() < MAX_ENDPOINTS) {
            habits.put(endpoint, habit);
        }
    }

    private static boolean isProviderHost(String endpoint) {
        int hostStart = endpoint.indexOf("://") + 3;
        int hostEnd = endpoint.indexOf(':', hostStart);
        String host = endpoint.substring(hostStart, hostEnd < 0 ? endpoint.length() : hostEnd);
        return host.equals("api.openai.com") || host.endsWith(".openai.azure.com")
                || host.endsWith(".cognitiveservices.azure.com");
    }
}
