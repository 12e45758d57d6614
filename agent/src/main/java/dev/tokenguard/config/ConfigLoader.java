package dev.tokenguard.config;

import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads the configuration from every source, once. Precedence, highest first: agent arguments
 * ({@code k=v,k2=v2}, keys without the {@code tokenguard.} prefix), system properties ({@code tokenguard.k}),
 * environment variables ({@code TOKENGUARD_K}), the file named by {@code tokenguard.config.file}, defaults.
 *
 * <p>A blank value counts as not set. Every key of every source is checked: an unknown key is an error naming the
 * closest known one. Only the winning value of each key is parsed. When {@code tokenguard.enabled} is
 * {@code false} nothing else is checked.
 */
public final class ConfigLoader {
    static final String AGENT_ARGUMENT = "agent argument";
    static final String SYSTEM_PROPERTY = "-D system property";
    private static final String ENV_PREFIX = "TOKENGUARD_";
    private static final String ENV_BUDGETS_PREFIX = "TOKENGUARD_BUDGETS_";
    private static final Pattern BUDGET_NAME = Pattern.compile("[A-Za-z0-9_-]+");

    private ConfigLoader() {
    }

    /** Reads this JVM's system properties and environment. */
    public static TokenGuardConfig load(String agentArgs) throws ConfigException {
        return load(agentArgs, System.getProperties(), System.getenv());
    }

    /**
     * @param agentArgs        the {@code -javaagent:...=} string, or {@code null}
     * @param systemProperties system properties; only {@code tokenguard.*} keys are read
     * @param environment      environment variables; only {@code TOKENGUARD_*} names are read
     * @throws ConfigException with a one-line message when any source holds an unknown key or a bad value
     */
    public static TokenGuardConfig load(String agentArgs, Properties systemProperties, Map<String, String> environment)
            throws ConfigException {
        Map<String, Setting> args = agentArguments(agentArgs);
        Map<String, Setting> props = systemProperties(systemProperties);
        Map<String, Setting> env = new LinkedHashMap<>();
        Map<String, String> envBudgetVars = new TreeMap<>();
        List<String> envUnknown = new ArrayList<>();
        environment(environment, env, envBudgetVars, envUnknown);

        List<Map<String, Setting>> upper = List.of(args, props, env);
        if (!parse(ConfigOptions.ENABLED, resolve(upper, ConfigOptions.ENABLED.key()), true)) {
            return disabled(merge(upper));
        }
        for (Setting s : args.values()) {
            checkKey(s);
        }
        for (Setting s : props.values()) {
            checkKey(s);
        }
        for (String name : envUnknown) {
            throw unknownEnvironmentVariable(name);
        }

        Map<String, Setting> file = new LinkedHashMap<>();
        Setting fileSetting = resolve(upper, ConfigOptions.CONFIG_FILE.key());
        Path filePath = parse(ConfigOptions.CONFIG_FILE, fileSetting, null);
        if (filePath != null) {
            file = configFile(filePath, fileSetting.source());
        }

        Map<String, String> knownBudgetNames = new TreeMap<>();
        for (Map<String, Setting> layer : List.of(args, props, file)) {
            for (String key : layer.keySet()) {
                if (key.startsWith(ConfigOptions.BUDGETS_PREFIX)) {
                    String name = budgetName(key);
                    knownBudgetNames.putIfAbsent(normalizedBudgetName(name), name);
                }
            }
        }
        for (Map.Entry<String, String> e : envBudgetVars.entrySet()) {
            Setting s = new Setting(budgetKeyOfEnvironmentVariable(e.getKey(), knownBudgetNames), e.getValue(),
                    "environment variable " + e.getKey());
            checkKey(s);
            env.put(s.key(), s);
        }

        Map<String, Setting> merged = merge(List.of(args, props, env, file));
        if (!parse(ConfigOptions.ENABLED, merged.get(ConfigOptions.ENABLED.key()), true)) {
            return disabled(merged);
        }
        return build(merged);
    }

    /** The environment variable a key is read from: upper case, '.' and '-' become '_'. */
    static String environmentName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    // ---- sources

    private static Map<String, Setting> agentArguments(String agentArgs) throws ConfigException {
        Map<String, Setting> layer = new LinkedHashMap<>();
        if (agentArgs == null || agentArgs.isBlank()) {
            return layer;
        }
        for (String piece : agentArgs.split(",")) {
            String p = piece.trim();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(null, "invalid agent argument '" + Redaction.shown(null, p)
                        + "': expected key=value pairs separated by ',', keys without the tokenguard. prefix, e.g."
                        + " -javaagent:tokenguard-agent.jar=mode=warn,budget.max-tokens=50000; inside one argument"
                        + " separate list items with ';', e.g. budget.warn-at=0.5;0.9");
            }
            String name = p.substring(0, eq).trim();
            String key = name.startsWith(ConfigOptions.PREFIX) ? name : ConfigOptions.PREFIX + name;
            Setting s = new Setting(key, p.substring(eq + 1).trim(), AGENT_ARGUMENT);
            Setting previous = layer.putIfAbsent(key, s);
            if (previous != null) {
                throw new ConfigException(key, key + " is set twice in the agent arguments ('"
                        + Redaction.shown(key, previous.value()) + "' and '" + Redaction.shown(key, s.value())
                        + "'): expected each key once");
            }
        }
        return layer;
    }

    private static Map<String, Setting> systemProperties(Properties properties) {
        Map<String, Setting> layer = new LinkedHashMap<>();
        for (String name : new TreeSet<>(properties.stringPropertyNames())) {
            if (name.startsWith(ConfigOptions.PREFIX) && !name.startsWith(ConfigOptions.INTERNAL_PREFIX)) {
                layer.put(name, new Setting(name, properties.getProperty(name).trim(), SYSTEM_PROPERTY));
            }
        }
        return layer;
    }

    private static void environment(Map<String, String> environment, Map<String, Setting> fixed,
                                    Map<String, String> budgetVars, List<String> unknown) {
        Map<String, String> keyByName = new LinkedHashMap<>();
        for (ConfigOption<?> o : ConfigOptions.ALL) {
            if (!o.isTemplate()) {
                keyByName.put(o.environmentVariable(), o.key());
            }
        }
        for (String name : new TreeSet<>(environment.keySet())) {
            if (!name.startsWith(ENV_PREFIX) || name.equals(StoreAddress.PASSWORD_VARIABLE)) {
                continue; // the store's password is read by the store alone, never kept with the settings
            }
            String value = environment.get(name) == null ? "" : environment.get(name).trim();
            String key = keyByName.get(name);
            if (key != null) {
                fixed.put(key, new Setting(key, value, "environment variable " + name));
            } else if (name.startsWith(ENV_BUDGETS_PREFIX)) {
                budgetVars.put(name, value);
            } else {
                unknown.add(name);
            }
        }
    }

    private static Map<String, Setting> configFile(Path path, String namedBy) throws ConfigException {
        String source = "config file " + path;
        Map<String, Setting> layer = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : ConfigFile.read(path, namedBy).entrySet()) {
            String key = e.getKey().startsWith(ConfigOptions.PREFIX) ? e.getKey() : ConfigOptions.PREFIX + e.getKey();
            Setting s = new Setting(key, e.getValue(), source);
            if (key.equals(ConfigOptions.CONFIG_FILE.key())) {
                throw new ConfigException(key, key + " is set in config file " + path
                        + ", which it names itself: expected it only in an agent argument, a -D system property or"
                        + " the environment variable " + ConfigOptions.CONFIG_FILE.environmentVariable());
            }
            checkKey(s);
            if (layer.putIfAbsent(key, s) != null) {
                throw new ConfigException(key, key + " is set twice in " + source
                        + " (with and without the tokenguard. prefix): expected each key once");
            }
        }
        return layer;
    }

    // ---- keys

    private static void checkKey(Setting s) throws ConfigException {
        String key = s.key();
        if (ConfigOptions.find(key).isPresent()) {
            return;
        }
        if (key.startsWith(ConfigOptions.BUDGETS_PREFIX)) {
            checkBudgetKey(s);
            return;
        }
        String hint = key.startsWith("tokenguard.otel.")
                ? "; OpenTelemetry export is configured with the standard OTEL_* environment variables or otel.*"
                + " system properties, not tokenguard.otel.*" : "";
        throw new ConfigException(key, "unknown configuration key " + key + " (from " + s.source()
                + "): the closest known key is " + closestKey(key) + hint);
    }

    private static String closestKey(String key) {
        List<String> keys = new ArrayList<>();
        for (ConfigOption<?> o : ConfigOptions.ALL) {
            if (!o.isTemplate()) {
                keys.add(o.key());
            }
        }
        return ClosestKey.among(key, keys, '.');
    }

    private static void checkBudgetKey(Setting s) throws ConfigException {
        String key = s.key();
        String rest = key.substring(ConfigOptions.BUDGETS_PREFIX.length());
        int dot = rest.lastIndexOf('.');
        if (dot <= 0) {
            String guess = ConfigOptions.NAMED_BUDGET_KEYS.containsKey(rest)
                    ? ConfigOptions.BUDGET_PREFIX + rest + " (the default budget) or " : "";
            throw new ConfigException(key, "unknown configuration key " + key + " (from " + s.source()
                    + "): a named budget's keys have the form tokenguard.budgets.<name>.<key>; the closest known key is "
                    + guess + ConfigOptions.BUDGETS_PREFIX + "<name>." + (rest.isEmpty() ? "<key>" : rest));
        }
        String name = rest.substring(0, dot);
        String sub = rest.substring(dot + 1);
        if (!BUDGET_NAME.matcher(name).matches()) {
            throw new ConfigException(key, "invalid budget name '" + name + "' in " + key + " (from " + s.source()
                    + "): expected letters, digits, '_' and '-' only, e.g. tokenguard.budgets.batch-jobs." + sub);
        }
        if (name.equals(BudgetSpec.DEFAULT_NAME)) {
            throw new ConfigException(key, "budget name 'default' in " + key + " (from " + s.source()
                    + ") is the unnamed budget's: expected " + ConfigOptions.BUDGET_PREFIX + sub
                    + " for the default budget, or another name");
        }
        if (!ConfigOptions.NAMED_BUDGET_KEYS.containsKey(sub)) {
            String closest = ClosestKey.among(sub, ConfigOptions.NAMED_BUDGET_KEYS.keySet(), '-');
            throw new ConfigException(key, "unknown budget key '" + sub + "' in " + key + " (from " + s.source()
                    + "): the closest known key is " + ConfigOptions.BUDGETS_PREFIX + name + "." + closest
                    + "; a named budget's keys are " + String.join(", ", ConfigOptions.NAMED_BUDGET_KEYS.keySet()));
        }
    }

    private static String budgetName(String budgetKey) {
        String rest = budgetKey.substring(ConfigOptions.BUDGETS_PREFIX.length());
        return rest.substring(0, rest.lastIndexOf('.'));
    }

    private static String normalizedBudgetName(String name) {
        return name.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** {@code TOKENGUARD_BUDGETS_<NAME>_<KEY>}: KEY is matched as a suffix; NAME is a known name's env form, else lower-cased. */
    private static String budgetKeyOfEnvironmentVariable(String variable, Map<String, String> knownNames)
            throws ConfigException {
        String rest = variable.substring(ENV_BUDGETS_PREFIX.length());
        List<String> subs = new ArrayList<>(ConfigOptions.NAMED_BUDGET_KEYS.keySet());
        subs.sort(Comparator.comparingInt(String::length).reversed());
        for (String sub : subs) {
            String suffix = "_" + environmentName(sub);
            if (rest.length() > suffix.length() && rest.endsWith(suffix)) {
                String envName = rest.substring(0, rest.length() - suffix.length());
                String name = knownNames.getOrDefault(normalizedBudgetName(envName), envName.toLowerCase(Locale.ROOT));
                return ConfigOptions.BUDGETS_PREFIX + name + "." + sub;
            }
        }
        // no known key at the end: suggest the closest TOKENGUARD_BUDGETS_<NAME>_<KEY>
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (int i = rest.indexOf('_'); i > 0; i = rest.indexOf('_', i + 1)) {
            String keyPart = rest.substring(i + 1);
            for (String sub : subs) {
                int d = ClosestKey.distance(keyPart, environmentName(sub));
                if (d < bestDistance) {
                    bestDistance = d;
                    best = ENV_BUDGETS_PREFIX + rest.substring(0, i) + "_" + environmentName(sub);
                }
            }
        }
        String suggestion = best != null ? best : ENV_BUDGETS_PREFIX + (rest.isEmpty() ? "<NAME>" : rest) + "_MAX_TOKENS";
        throw new ConfigException(null, "unknown environment variable " + variable + ": the closest known form is "
                + suggestion + "; a named budget's variables are TOKENGUARD_BUDGETS_<NAME>_<KEY>, <KEY> one of "
                + String.join(", ", subs.stream().map(ConfigLoader::environmentName).sorted().toList()));
    }

    private static ConfigException unknownEnvironmentVariable(String name) {
        List<String> names = new ArrayList<>();
        for (ConfigOption<?> o : ConfigOptions.ALL) {
            if (!o.isTemplate()) {
                names.add(o.environmentVariable());
            }
        }
        String closest = ClosestKey.among(name, names, '_');
        return new ConfigException(null, "unknown environment variable " + name + ": no TokenGuard key maps to it;"
                + " the closest known one is " + closest + " (" + envKey(closest) + "); named budgets use"
                + " TOKENGUARD_BUDGETS_<NAME>_<KEY>");
    }

    private static String envKey(String envName) {
        for (ConfigOption<?> o : ConfigOptions.ALL) {
            if (!o.isTemplate() && o.environmentVariable().equals(envName)) {
                return o.key();
            }
        }
        return "";
    }

    // ---- values

    private static Setting resolve(List<Map<String, Setting>> layers, String key) {
        for (Map<String, Setting> layer : layers) {
            Setting s = layer.get(key);
            if (s != null && !s.isBlank()) {
                return s;
            }
        }
        return null;
    }

    private static Map<String, Setting> merge(List<Map<String, Setting>> layers) {
        Map<String, Setting> merged = new TreeMap<>();
        for (Map<String, Setting> layer : layers) {
            for (Setting s : layer.values()) {
                if (!s.isBlank()) {
                    merged.putIfAbsent(s.key(), s);
                }
            }
        }
        return merged;
    }

    /**
     * Parses one value the way start-up parses it, for a live change: a bad value gets the same one-line error.
     *
     * @param key    the key as the user gave it (with or without {@code tokenguard.})
     * @param source where the value came from, e.g. {@code set command}
     */
    public static <T> T parseValue(ConfigOption<T> option, String key, String value, String source)
            throws ConfigException {
        String full = key.startsWith("tokenguard.") ? key : "tokenguard." + key;
        return parse(option, new Setting(full, value, source), null);
    }

    /** The parsed value of a setting, {@code unset} when there is none (so not the option's default). */
    private static <T> T parse(ConfigOption<T> option, Setting s, T unset) throws ConfigException {
        if (s == null) {
            return unset;
        }
        try {
            return option.parse(s.value());
        } catch (IllegalArgumentException e) {
            // a URL's user info or query is a secret too, except where URLs are the expected form: there the
            // line shows the URL with those parts masked, which says more about what to fix
            boolean urlSecret = option != ConfigOptions.HTTP_ENDPOINTS && option != ConfigOptions.STORE
                    && !Redaction.url(s.value()).equals(s.value());
            if (Redaction.mustMask(s.key(), s.value()) || urlSecret) {
                // the parser's reason may quote the value, so it goes too
                throw new ConfigException(s.key(), "invalid value for " + s.key() + " (from " + s.source()
                        + "), not shown: the value is masked because it looks like a secret; expected "
                        + option.expectedForm());
            }
            String reason = e.getMessage() == null || e.getMessage().isEmpty() ? "" : e.getMessage() + "; ";
            throw new ConfigException(s.key(), "invalid value '" + Redaction.shown(s.key(), s.value()) + "' for "
                    + s.key() + " (from " + s.source() + "): " + reason + "expected " + option.expectedForm());
        }
    }

    private static <T> T value(Map<String, Setting> merged, ConfigOption<T> option) throws ConfigException {
        return parse(option, merged.get(option.key()), option.defaultValue());
    }

    private static TokenGuardConfig disabled(Map<String, Setting> merged) {
        TokenGuardConfig d = TokenGuardConfig.defaults();
        return new TokenGuardConfig(false, d.mode(), d.budgets(), d.injectWarnings(), d.sessionLogEnabled(),
                d.sessionLogDir(), d.captureContent(), null, d.otelEnabled(), d.httpEndpoints(), java.util.Set.of(),
                merged);
    }

    private static TokenGuardConfig build(Map<String, Setting> merged) throws ConfigException {
        // read through TokenGuardConfig.value(...); parsed here so that a bad value stops start-up like any other
        value(merged, ConfigOptions.SESSION_LOG_LAYOUT);
        value(merged, ConfigOptions.SESSION_LOG_MAX_AGE);
        value(merged, ConfigOptions.SESSION_LOG_MAX_TOTAL_SIZE);
        EnforcementMode mode = value(merged, ConfigOptions.MODE);
        ScopeSpec scope = value(merged, ConfigOptions.BUDGET_SCOPE);
        Duration window = value(merged, ConfigOptions.BUDGET_WINDOW);
        double[] warnAt = value(merged, ConfigOptions.BUDGET_WARN_AT);
        List<BudgetSpec> budgets = new ArrayList<>();
        budgets.add(new BudgetSpec(BudgetSpec.DEFAULT_NAME, scope, value(merged, ConfigOptions.BUDGET_MAX_TOKENS),
                value(merged, ConfigOptions.BUDGET_MAX_INPUT_TOKENS), value(merged, ConfigOptions.BUDGET_MAX_OUTPUT_TOKENS),
                value(merged, ConfigOptions.BUDGET_MAX_COST_USD), window, warnAt, mode));

        Map<String, Map<String, Setting>> named = new TreeMap<>();
        for (Setting s : merged.values()) {
            if (s.key().startsWith(ConfigOptions.BUDGETS_PREFIX)) {
                String name = budgetName(s.key());
                named.computeIfAbsent(name, n -> new TreeMap<>()).put(s.key().substring(
                        ConfigOptions.BUDGETS_PREFIX.length() + name.length() + 1), s);
            }
        }
        for (Map.Entry<String, Map<String, Setting>> e : named.entrySet()) {
            budgets.add(namedBudget(e.getKey(), e.getValue(), scope, window, warnAt, mode));
        }

        for (ConfigOption<?> option : List.of(ConfigOptions.BUDGET_RESERVE_OUTPUT, ConfigOptions.BUDGET_RESERVE_WAIT,
                ConfigOptions.BUDGET_IDLE_RELEASE)) {
            value(merged, option); // validated here, read through TokenGuardConfig
        }
        java.util.Set<String> disabled = new java.util.TreeSet<>();
        for (ConfigOption<Boolean> option : ConfigOptions.INSTRUMENTATION_ENABLED) {
            if (!value(merged, option)) {
                disabled.add(option.key());
            }
        }
        // read through TokenGuardConfig's accessors; a bad value stops the agent here, at load
        value(merged, ConfigOptions.CALL_SITE_ENABLED);
        for (ConfigOption<?> option : List.of(ConfigOptions.STORE, ConfigOptions.STORE_NAMESPACE,
                ConfigOptions.STORE_TIMEOUT, ConfigOptions.STORE_ON_FAILURE, ConfigOptions.STORE_TLS_CA_FILE)) {
            value(merged, option); // validated here, read through TokenGuardConfig
        }
        value(merged, ConfigOptions.OTEL_BUDGET_SCOPES);
        return new TokenGuardConfig(true, mode, budgets, value(merged, ConfigOptions.WARNINGS_INJECT),
                value(merged, ConfigOptions.SESSION_LOG_ENABLED), value(merged, ConfigOptions.SESSION_LOG_DIR),
                value(merged, ConfigOptions.SESSION_LOG_CAPTURE_CONTENT), value(merged, ConfigOptions.PRICING_FILE),
                value(merged, ConfigOptions.OTEL_ENABLED),
                java.util.Objects.requireNonNullElse(value(merged, ConfigOptions.HTTP_ENDPOINTS), List.of()), disabled,
                merged);
    }

    private static BudgetSpec namedBudget(String name, Map<String, Setting> keys, ScopeSpec scope, Duration window,
                                          double[] warnAt, EnforcementMode mode) throws ConfigException {
        Long maxTokens = parse(ConfigOptions.BUDGET_MAX_TOKENS, keys.get("max-tokens"), null);
        Long maxInput = parse(ConfigOptions.BUDGET_MAX_INPUT_TOKENS, keys.get("max-input-tokens"), null);
        Long maxOutput = parse(ConfigOptions.BUDGET_MAX_OUTPUT_TOKENS, keys.get("max-output-tokens"), null);
        Double maxCost = parse(ConfigOptions.BUDGET_MAX_COST_USD, keys.get("max-cost-usd"), null);
        BudgetSpec budget = new BudgetSpec(name, parse(ConfigOptions.BUDGET_SCOPE, keys.get("scope"), scope), maxTokens,
                maxInput, maxOutput, maxCost, parse(ConfigOptions.BUDGET_WINDOW, keys.get("window"), window),
                parse(ConfigOptions.BUDGET_WARN_AT, keys.get("warn-at"), warnAt),
                parse(ConfigOptions.MODE, keys.get("mode"), mode));
        if (maxTokens == null && maxInput == null && maxOutput == null && maxCost == null) {
            String prefix = ConfigOptions.BUDGETS_PREFIX + name + ".";
            Setting any = keys.values().iterator().next();
            throw new ConfigException(prefix + "max-tokens", "budget '" + name + "' has no limit (" + any.key()
                    + " from " + any.source() + "): expected at least one of " + prefix + "max-tokens, " + prefix
                    + "max-input-tokens, " + prefix + "max-output-tokens or " + prefix + "max-cost-usd");
        }
        return budget;
    }
}
