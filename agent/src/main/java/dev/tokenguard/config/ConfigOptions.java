package dev.tokenguard.config;

import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.instrumentation.Plugins;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.sessionlog.LogLayout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Every configuration option, declared once: key, expected form, default and meaning. The loader reads these, and
 * the configuration table in README.md is {@link #markdownTable()} (a test keeps the two identical).
 */
public final class ConfigOptions {
    public static final String PREFIX = "tokenguard.";
    /** Prefix of the default budget's keys. */
    public static final String BUDGET_PREFIX = "tokenguard.budget.";
    /** Prefix of named budgets' keys: {@code tokenguard.budgets.<name>.<key>}. */
    public static final String BUDGETS_PREFIX = "tokenguard.budgets.";
    /**
     * System properties under this prefix belong to the agent itself (e.g. a guard against double installation), not
     * to the user: the loader ignores them.
     */
    public static final String INTERNAL_PREFIX = "tokenguard.internal.";

    private static final String TOKENS = "a positive whole number of tokens, e.g. `100000`, `100_000`, `250k` or `2M`"
            + " (k = 1,000, M = 1,000,000), or `none`";
    private static final String LIST = "separated by `,` (or `;`, which agent arguments need)";

    public static final ConfigOption<Boolean> ENABLED = option("tokenguard.enabled", "`true` or `false`", "true",
            "`false`: the agent installs nothing", ValueFormat.BOOL);
    public static final ConfigOption<EnforcementMode> MODE = option("tokenguard.mode", "`enforce` or `warn`", "enforce",
            "`enforce`: refuse calls on an exhausted budget; `warn`: never throw, only warn and log."
                    + " Also the mode of named budgets that set none", ValueFormat.MODE);
    public static final ConfigOption<Long> BUDGET_MAX_TOKENS = option("tokenguard.budget.max-tokens", TOKENS, "100000",
            "total (input + output) tokens per scope", ValueFormat.TOKENS);
    public static final ConfigOption<Long> BUDGET_MAX_INPUT_TOKENS = option("tokenguard.budget.max-input-tokens",
            TOKENS, null, "input tokens per scope", ValueFormat.TOKENS);
    public static final ConfigOption<Long> BUDGET_MAX_OUTPUT_TOKENS = option("tokenguard.budget.max-output-tokens",
            TOKENS, null, "output tokens per scope", ValueFormat.TOKENS);
    public static final ConfigOption<Double> BUDGET_MAX_COST_USD = option("tokenguard.budget.max-cost-usd",
            "a positive amount of US dollars, e.g. `5` or `2.50`, or `none`", null,
            "estimated cost per scope, from the price table", ValueFormat.COST);
    public static final ConfigOption<ScopeSpec> BUDGET_SCOPE = option("tokenguard.budget.scope",
            "`thread`, `global` or `mdc:<key>`, e.g. `mdc:tenant`", "thread",
            "`thread`, `global`, `mdc:<key>` (SLF4J/Logback/Log4j2 MDC value; falls back to thread when absent)",
            ValueFormat.SCOPE);
    public static final ConfigOption<Duration> BUDGET_WINDOW = option("tokenguard.budget.window",
            "`<n>m`, `<n>h` or `<n>d`, at least `1m`, e.g. `30m`, `1h`, `1d`, `7d`; shorter than a day it must divide"
                    + " 24h evenly, longer it must be whole days; or `none`", null,
            "usage resets at each fixed window boundary (UTC; windows are aligned to midnight UTC)",
            ValueFormat.WINDOW);
    public static final ConfigOption<double[]> BUDGET_WARN_AT = option("tokenguard.budget.warn-at",
            "fractions in (0, 1] " + LIST + ", e.g. `0.75,0.90,0.95`, or `none` for no warnings", "0.75,0.90,0.95",
            "warning thresholds, fractions of the limit", ValueFormat.WARN_AT);
    public static final ConfigOption<String> NAMED_BUDGETS = option("tokenguard.budgets.<name>.<key>",
            "`<name>`: letters, digits, `_` and `-`, not `default`; `<key>`: a `tokenguard.budget.*` key above, or `mode`",
            null,
            "more named budgets with the same keys; a call is charged to every budget and refused if any enforcing"
                    + " budget is exhausted. Unset `scope`, `window`, `warn-at` and `mode` are the default budget's"
                    + " (`mode`: `tokenguard.mode`); unset limits are none, and each named budget needs at least one"
                    + " limit. Environment form: `TOKENGUARD_BUDGETS_<NAME>_<KEY>`, e.g."
                    + " `TOKENGUARD_BUDGETS_BATCH_MAX_TOKENS` (`<NAME>` is matched to a name used in another source,"
                    + " otherwise lower-cased)",
            Function.identity());
    public static final ConfigOption<Boolean> WARNINGS_INJECT = option("tokenguard.warnings.inject", "`true` or `false`",
            "false", "`true`: after a threshold is crossed, the next request of that scope carries a short system"
                    + " message telling the model how much budget is left", ValueFormat.BOOL);
    public static final ConfigOption<Boolean> SESSION_LOG_ENABLED = option("tokenguard.session-log.enabled",
            "`true` or `false`", "true", "write JSONL", ValueFormat.BOOL);
    public static final ConfigOption<Path> SESSION_LOG_DIR = option("tokenguard.session-log.dir", "a directory path",
            "tokenguard-sessions", "where the JSONL session logs go; a relative path is relative to the working directory",
            ValueFormat.PATH);
    public static final ConfigOption<Boolean> SESSION_LOG_CAPTURE_CONTENT = option(
            "tokenguard.session-log.capture-content", "`true` or `false`", "false",
            "also log prompts and completions (truncated)", ValueFormat.BOOL);
    public static final ConfigOption<Path> PRICING_FILE = option("tokenguard.pricing.file",
            "path of a readable JSON file, or `none`", null,
            "JSON price table that overrides or extends the built-in one", ValueFormat.READABLE_FILE);
    public static final ConfigOption<Boolean> OTEL_ENABLED = option("tokenguard.otel.enabled", "`true` or `false`", "true",
            "export spans and metrics (the export itself is configured with the standard `OTEL_*` variables /"
                    + " `otel.*` properties)", ValueFormat.BOOL);
    public static final ConfigOption<List<HttpEndpoint>> HTTP_ENDPOINTS = option("tokenguard.http.endpoints",
            "absolute http or https base URLs " + LIST + ", each optionally `=provider`,"
                    + " e.g. `http://llm.internal:8000=openai`, or `none`", null,
            "base URLs that the raw-HTTP fallback governs besides the providers' own hosts (self-hosted, proxied or"
                    + " gateway endpoints)", ValueFormat.ENDPOINTS);
    public static final ConfigOption<Boolean> CALL_SITE_ENABLED = option("tokenguard.call-site.enabled",
            "`true` or `false`", "true", "record each call's `call_site` (the first application frame below the SDK"
                    + " and framework frames, `class.method:line`) in the session log, the span (`code.*`) and the JFR"
                    + " event; `false` saves the stack walk (a few microseconds per call, see docs/PERFORMANCE.md)", ValueFormat.BOOL);
    public static final ConfigOption<Integer> OTEL_BUDGET_SCOPES = option("tokenguard.otel.budget-scopes",
            "a whole number from 1 to 1000", "10", "how many scope instances, per budget and scope kind, the"
                    + " `tokenguard.budget.utilization` gauge reports: those closest to their limit, so the metric's"
                    + " cardinality stays bounded however many threads or MDC values there are",
            ValueFormat.SCOPE_COUNT);
    public static final ConfigOption<Path> CONFIG_FILE = option("tokenguard.config.file",
            "path of a `.properties`, `.yaml` or `.yml` file, or `none`", null,
            "a file of further settings, below environment variables in precedence; keys with or without the"
                    + " `tokenguard.` prefix, YAML nested or flat. Only an agent argument, system property or"
                    + " environment variable can name it", ValueFormat.CONFIG_FILE);

    public static final ConfigOption<Long> BUDGET_RESERVE_OUTPUT = option("tokenguard.budget.reserve-output",
            "a whole number of tokens >= 0, e.g. `1024` or `4k`, or `off`", "1024",
            "output tokens a call reserves before it is admitted when its request sets no output cap (`max_tokens`,"
                    + " `max_completion_tokens`, `max_output_tokens`, ...); with its locally counted input. A call is"
                    + " admitted while used + reserved by calls in flight < limit. `off`: no reservation (calls are"
                    + " admitted while used < limit, so concurrent calls can overshoot)", ValueFormat.RESERVE_OUTPUT);
    public static final ConfigOption<Duration> BUDGET_RESERVE_WAIT = option("tokenguard.budget.reserve-wait",
            "a duration `<n>ms`, `<n>s`, `<n>m`, e.g. `500ms`, `30s`, or `0`", "30s",
            "how long a call may wait for calls in flight to settle when their reservations cover what is left (never"
                    + " on an event-loop thread); when it runs out the call is decided on the settled numbers alone",
            ValueFormat.SPAN);
    public static final ConfigOption<Duration> BUDGET_IDLE_RELEASE = option("tokenguard.budget.idle-release",
            "a duration `<n>s`, `<n>m`, `<n>h`, e.g. `15m`", "15m",
            "the scope instance of an MDC value or of a thread with no call for this long ends its session"
                    + " (`session_end` reason `idle`, file closed) and is released; its usage in the current window is"
                    + " kept (without a window, while the process runs; for a thread, while it lives) and the next call"
                    + " of the same MDC value or thread starts a new session from it",
            ValueFormat.POSITIVE_SPAN);
    public static final ConfigOption<StoreAddress> STORE = option("tokenguard.store",
            "`memory`, or `redis://host[:port][/db]` (`rediss://` for TLS; a password as the URL's user info or in"
                    + " `TOKENGUARD_STORE_PASSWORD`), e.g. `redis://redis.internal:6379/0`", "memory",
            "`memory`: budgets stay in each JVM. A Redis URL: `global` and `mdc:` budgets are shared by every JVM"
                    + " using the same store and namespace (`thread` budgets stay local); the password comes from the"
                    + " URL or `TOKENGUARD_STORE_PASSWORD` and is never printed. See \"Sharing a budget across JVMs\"",
            ValueFormat.STORE_ADDRESS);
    public static final ConfigOption<String> STORE_NAMESPACE = option("tokenguard.store.namespace",
            "letters, digits, `.`, `_` and `-`, e.g. `checkout`", null,
            "separates services sharing one store; unset: the OpenTelemetry service name (`OTEL_SERVICE_NAME`), else"
                    + " `default`", ValueFormat.STORE_NAMESPACE);
    public static final ConfigOption<Duration> STORE_TIMEOUT = option("tokenguard.store.timeout",
            "a duration `<n>ms` or `<n>s`, e.g. `200ms`", "200ms",
            "the longest a call waits for the store (connect or reply); past it the store counts as unreachable",
            ValueFormat.POSITIVE_SPAN);
    public static final ConfigOption<StoreFailureMode> STORE_ON_FAILURE = option("tokenguard.store.on-failure",
            "`local` or `refuse`", "local",
            "while the store cannot be reached: `local` keeps counting in each JVM (from the shared usage last seen),"
                    + " prints one line, and adds what was spent to the store when it is back; `refuse` refuses the"
                    + " calls of shared budgets until it is back", ValueFormat.STORE_FAILURE_MODE);
    public static final ConfigOption<Path> STORE_TLS_CA_FILE = option("tokenguard.store.tls.ca-file",
            "path of a readable PEM file of one or more CA certificates, or `none`", null,
            "with a `rediss://` store: the CAs whose certificates the store's must chain to, instead of the JVM's"
                    + " trust store (`javax.net.ssl.trustStore`, the default). The host name of the URL is checked"
                    + " against the certificate either way", ValueFormat.CA_FILE);
    /** Keys under {@code tokenguard.budget.} that hold for every budget, so a named budget does not set them. */
    static final java.util.Set<String> ENGINE_WIDE_KEYS = java.util.Set.of(BUDGET_RESERVE_OUTPUT.key(),
            BUDGET_RESERVE_WAIT.key(), BUDGET_IDLE_RELEASE.key());
    public static final ConfigOption<LogLayout> SESSION_LOG_LAYOUT = option("tokenguard.session-log.layout",
            "`session` or `daily`", "session",
            "`session`: one file per session; `daily`: one file per UTC day and process"
                    + " (`<service>.<yyyy-MM-dd>.p<pid>-<start>.jsonl`, rolled at midnight UTC), each line still names"
                    + " its session. `report` and the restart replay read both", ValueFormat.LOG_LAYOUT);
    public static final ConfigOption<Duration> SESSION_LOG_MAX_AGE = option("tokenguard.session-log.max-age",
            "`<n>d`, `<n>h` or `<n>m`, e.g. `30d`, or `none`", "30d",
            "retention: session-log files last written longer ago are deleted (never a file still open)",
            ValueFormat.AGE);
    public static final ConfigOption<Long> SESSION_LOG_MAX_TOTAL_SIZE = option("tokenguard.session-log.max-total-size",
            "a size with `KB`, `MB`, `GB` or `TB` (powers of 1,000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1,024),"
                    + " e.g. `500MB`, `1GB`, or `none`", "1GB",
            "retention: while the directory's `*.jsonl` files are larger than this together, the least recently"
                    + " written closed ones are deleted. Sweeps run on a background thread at start, at the daily roll"
                    + " and when a session's file closes, at most once a minute; each sweep that deletes says so in"
                    + " one line", ValueFormat.BYTE_SIZE);

    /** One {@code tokenguard.instrumentation.<name>.enabled} per SDK plugin, derived from the plugins' declarations. */
    public static final List<ConfigOption<Boolean>> INSTRUMENTATION_ENABLED = instrumentationOptions();

    /** Every option, in table order. */
    public static final List<ConfigOption<?>> ALL = all();

    private static List<ConfigOption<?>> all() {
        List<ConfigOption<?>> all = new java.util.ArrayList<>(List.of(ENABLED, MODE, BUDGET_MAX_TOKENS,
                BUDGET_MAX_INPUT_TOKENS, BUDGET_MAX_OUTPUT_TOKENS, BUDGET_MAX_COST_USD, BUDGET_SCOPE, BUDGET_WINDOW,
                BUDGET_WARN_AT, NAMED_BUDGETS, WARNINGS_INJECT, SESSION_LOG_ENABLED, SESSION_LOG_DIR,
                SESSION_LOG_CAPTURE_CONTENT, PRICING_FILE, OTEL_ENABLED, HTTP_ENDPOINTS));
        all.addAll(INSTRUMENTATION_ENABLED);
        all.add(CALL_SITE_ENABLED);
        all.add(OTEL_BUDGET_SCOPES);
        all.addAll(List.of(SESSION_LOG_LAYOUT, SESSION_LOG_MAX_AGE, SESSION_LOG_MAX_TOTAL_SIZE));
        all.add(CONFIG_FILE);
        all.add(BUDGET_RESERVE_OUTPUT);
        all.add(BUDGET_RESERVE_WAIT);
        all.add(BUDGET_IDLE_RELEASE);
        all.addAll(List.of(STORE, STORE_NAMESPACE, STORE_TIMEOUT, STORE_ON_FAILURE));
        all.add(STORE_TLS_CA_FILE);
        return List.copyOf(all);
    }

    private static List<ConfigOption<Boolean>> instrumentationOptions() {
        List<ConfigOption<Boolean>> options = new java.util.ArrayList<>();
        for (SdkPlugin plugin : Plugins.ALL) {
            options.add(option(plugin.enabledKey(), "`true` or `false`", "true", "`false`: the " + plugin.name()
                    + " plugin (" + plugin.versions().oldest() + " up to, not including, " + plugin.versions().below()
                    + ") leaves that SDK alone", ValueFormat.BOOL));
        }
        return List.copyOf(options);
    }

    /** The keys a named budget may set ({@code tokenguard.budgets.<name>.<key>}), each with the option whose form it has. */
    static final Map<String, ConfigOption<?>> NAMED_BUDGET_KEYS;

    static {
        Map<String, ConfigOption<?>> m = new LinkedHashMap<>();
        for (ConfigOption<?> o : ALL) {
            if (o.key().startsWith(BUDGET_PREFIX) && !ENGINE_WIDE_KEYS.contains(o.key())) {
                m.put(o.key().substring(BUDGET_PREFIX.length()), o);
            }
        }
        m.put("mode", MODE);
        NAMED_BUDGET_KEYS = java.util.Collections.unmodifiableMap(m);
    }

    private ConfigOptions() {
    }

    private static <T> ConfigOption<T> option(String key, String expectedForm, String defaultText, String description,
                                              Function<String, T> parser) {
        return new ConfigOption<>(key, expectedForm, defaultText, description, parser);
    }

    /** The option with exactly this key (templates excluded). */
    public static Optional<ConfigOption<?>> find(String key) {
        for (ConfigOption<?> o : ALL) {
            if (!o.isTemplate() && o.key().equals(key)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }

    /** The keys a named budget may set: {@code max-tokens}, ..., {@code warn-at}, {@code mode}. */
    public static List<String> namedBudgetKeys() {
        return List.copyOf(NAMED_BUDGET_KEYS.keySet());
    }

    /** The configuration table of README.md: key, default, expected form, meaning; one row per option. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| key | default | expected form | meaning |\n");
        sb.append("|---|---|---|---|\n");
        for (ConfigOption<?> o : ALL) {
            String def = o.isTemplate() ? "" : o.defaultText() == null ? "none" : "`" + o.defaultText() + "`";
            sb.append("| `").append(o.key()).append("` | ").append(def).append(" | ")
                    .append(cell(o.expectedFormMarkdown())).append(" | ").append(cell(o.description())).append(" |\n");
        }
        return sb.toString();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|");
    }
}
