package dev.tokenguard.control;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.FleetView;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.ScopeUtilization;
import dev.tokenguard.budget.Session;
import dev.tokenguard.config.ConfigException;
import dev.tokenguard.config.ConfigLoader;
import dev.tokenguard.config.ConfigOption;
import dev.tokenguard.config.ConfigOptions;
import dev.tokenguard.core.Governor;
import dev.tokenguard.sessionlog.SessionLogWriter;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Live control of a running agent: reads the budgets' limits, modes and use, and changes them from the next call on.
 * Every value is validated as start-up configuration validates it (the same one-line error; nothing changes on a bad
 * one), and every change is written to the session log as {@code budget_changed}, under a session of its own
 * ({@code control-<pid>}), since a change belongs to no scope.
 */
public final class Budgets implements BudgetsMBean {
    /** Where the value of a live change comes from, as errors name it. */
    static final String SOURCE = "set command";
    /** How many scopes {@link #getTopScopes()} lists per budget and kind of scope. */
    static final int TOP_SCOPES = 5;
    private static final String NOTHING_CHANGED = "nothing changed";
    private static final String GLOBAL = "global";
    private static final String[] LIMIT_KEYS = {"max-tokens", "max-input-tokens", "max-output-tokens", "max-cost-usd"};

    private final BudgetEngine engine;
    private final Governor governor;
    private final SessionLogWriter log;
    private final CallCounts counts;
    private final Supplier<List<String>> sdks;
    private final Session changes;

    /**
     * @param log    the session log, or null when it is switched off
     * @param counts the calls, refusals and warnings so far
     */
    public Budgets(BudgetEngine engine, Governor governor, SessionLogWriter log, CallCounts counts) {
        this(engine, governor, log, counts, List::of);
    }

    /**
     * @param log    the session log, or null when it is switched off
     * @param counts the calls, refusals and warnings so far
     * @param sdks   the SDKs governed so far, as the start-up lines name them (name and version)
     */
    public Budgets(BudgetEngine engine, Governor governor, SessionLogWriter log, CallCounts counts,
                   Supplier<List<String>> sdks) {
        this.sdks = sdks;
        this.engine = engine;
        this.governor = governor;
        this.log = log;
        this.counts = counts;
        this.changes = new Session("control-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis(),
                "control", "tokenguard-control");
    }

    @Override
    public boolean isEnabled() {
        return governor.governing();
    }

    @Override
    public String[] getSdks() {
        return sdks.get().stream().sorted().toArray(String[]::new);
    }

    @Override
    public String[] getBudgetNames() {
        return engine.budgets().stream().map(BudgetSpec::name).toArray(String[]::new);
    }

    @Override
    public String[] getLimits() {
        return engine.budgets().stream().map(b -> b.name() + ": " + limits(b)).toArray(String[]::new);
    }

    @Override
    public String[] getModes() {
        return engine.budgets().stream().map(b -> b.name() + "=" + modeText(b.mode())).toArray(String[]::new);
    }

    @Override
    public String[] getTotalUsed() {
        return engine.budgets().stream().map(b -> b.name() + "=" + totalUsed(b.name())
                + (engine.fleet().shares(b) ? " (fleet)" : "")).toArray(String[]::new);
    }

    @Override
    public String[] getTopScopes() {
        List<String> lines = new ArrayList<>();
        for (ScopeUtilization u : engine.mostUtilized(TOP_SCOPES)) {
            lines.add(u.budgetName() + " " + scopeLine(u));
        }
        return lines.toArray(String[]::new);
    }

    /** One budget's lines of {@link #getTopScopes()}, without the budget's name. */
    String[] topScopes(String budget) {
        List<String> lines = new ArrayList<>();
        for (ScopeUtilization u : engine.mostUtilized(TOP_SCOPES)) {
            if (u.budgetName().equals(budget)) {
                lines.add(scopeLine(u));
            }
        }
        return lines.toArray(String[]::new);
    }

    /** The budget of this name as it is now. */
    BudgetSpec spec(String budget) {
        for (BudgetSpec b : engine.budgets()) {
            if (b.name().equals(budget)) {
                return b;
            }
        }
        throw new IllegalArgumentException("TokenGuard: there is no budget '" + budget + "'");
    }

    /**
     * The total tokens used in the current window over every scope instance of a budget; for a budget shared through
     * a store ({@code global}, {@code mdc:}), the fleet's count of each shared instance as last seen (never a wait
     * for the store) in place of this JVM's share: the {@code global} instance, and the MDC values this JVM has met.
     */
    long totalUsed(String budget) {
        long local = engine.totalUsed(budget);
        FleetView fleet = engine.fleet();
        BudgetSpec spec = spec(budget);
        if (!fleet.shares(spec)) {
            return local;
        }
        if (spec.scope().kind() == ScopeSpec.Kind.GLOBAL) {
            fleet.usage(spec, GLOBAL); // the one instance, known to the fleet even before this JVM's first call
        }
        long sum = local;
        for (Map.Entry<String, long[]> e : fleet.scopes(spec).entrySet()) {
            long[] mine = engine.usage(budget, e.getKey());
            sum += e.getValue()[0] - (mine == null ? 0 : mine[0]);
        }
        return sum;
    }

    /** Whether a budget's figures are the fleet's (a store shares it), not this JVM's alone. */
    boolean fleetUsage(String budget) {
        return engine.fleet().shares(spec(budget));
    }

    @Override
    public long getCalls() {
        return counts.calls();
    }

    @Override
    public long getRefusals() {
        return counts.refusals();
    }

    @Override
    public long getWarnings() {
        return counts.warnings();
    }

    @Override
    public String status() {
        StringBuilder sb = new StringBuilder();
        sb.append("governance: ").append(isEnabled() ? "on" : "off (calls pass uncharged)").append('\n');
        String[] found = getSdks();
        sb.append("SDKs governed: ").append(found.length == 0 ? "none yet (an SDK is governed from the first use of "
                + "its classes)" : String.join(", ", found)).append('\n');
        sb.append("calls: ").append(getCalls()).append(", refusals: ").append(getRefusals()).append(", warnings: ")
                .append(getWarnings()).append('\n');
        sb.append("budgets:\n");
        for (BudgetSpec b : engine.budgets()) {
            sb.append("  ").append(b.name()).append(" (scope ").append(b.scope()).append(", mode ")
                    .append(modeText(b.mode())).append("): ").append(limits(b)).append("; used ")
                    .append(totalUsed(b.name())).append(" tokens over all scopes");
            if (engine.fleet().shares(b)) {
                sb.append(" (fleet: the shared store's count as last seen; this JVM's own: ")
                        .append(engine.totalUsed(b.name())).append(')');
            }
            sb.append('\n');
        }
        String[] top = getTopScopes();
        sb.append("top scopes:").append(top.length == 0 ? " none yet\n" : "\n");
        for (String line : top) { // highest first per budget and kind of scope
            sb.append("  ").append(line).append('\n');
        }
        return sb.toString();
    }

    @Override
    public String set(String setting) {
        return setBy(setting, null);
    }

    @Override
    public String setBy(String setting, String by) {
        return setAllBy(new String[] {setting}, by);
    }

    /**
     * Checks every setting first, each on top of the ones before it, then makes them all; a bad one anywhere changes
     * nothing. Each key changed is one {@code budget_changed} line.
     */
    @Override
    public synchronized String setAllBy(String[] settings, String by) {
        if (settings == null || settings.length == 0) {
            throw new IllegalArgumentException("TokenGuard: no setting given: expected key=value, e.g. "
                    + "budget.max-tokens=200k; " + NOTHING_CHANGED);
        }
        Plan plan = new Plan();
        List<List<Step>> steps = new ArrayList<>();
        for (String setting : settings) {
            steps.add(plan.add(setting));
        }
        for (BudgetSpec b : plan.changedBudgets()) {
            try {
                engine.checkChange(b);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("TokenGuard: " + e.getMessage() + "; " + NOTHING_CHANGED, e);
            }
        }
        // every setting is valid: make them, then write them down
        for (BudgetSpec b : plan.changedBudgets()) {
            engine.change(b);
        }
        if (plan.enabled != null) {
            governor.governing(plan.enabled);
        }
        List<String> lines = new ArrayList<>();
        for (List<Step> forOne : steps) {
            List<String> done = new ArrayList<>();
            for (Step step : forOne) {
                if (step.key().equals("reset")) {
                    int n = engine.resetScope(step.old());
                    done.add("reset " + step.old() + " (" + n + " budget" + (n == 1 ? "" : "s") + ")");
                } else {
                    done.add((step.budget().equals("*") ? "" : step.budget() + ".") + step.key() + ": "
                            + text(step.old()) + " -> " + text(step.now()));
                }
                logChange(step.budget(), step.key(), step.old(), step.now(), by);
            }
            lines.add(String.join("; ", done));
        }
        return String.join("\n", lines);
    }

    /** One change checked and ready: {@code budget} is {@code *} for {@code enabled} and {@code reset}. */
    private record Step(String budget, String key, String old, String now) {
    }

    /** The settings checked so far, each applied to working copies of the budgets, none made yet. */
    private final class Plan {
        private final Map<String, BudgetSpec> before = new LinkedHashMap<>();
        private final Map<String, BudgetSpec> after = new LinkedHashMap<>();
        private Boolean enabled;

        Plan() {
            for (BudgetSpec b : engine.budgets()) {
                before.put(b.name(), b);
                after.put(b.name(), b);
            }
        }

        List<BudgetSpec> changedBudgets() {
            return after.values().stream().filter(b -> b != before.get(b.name())).toList();
        }

        List<Step> add(String setting) {
            String text = setting == null ? "" : setting.trim();
            if (text.startsWith("reset ") || text.equals("reset")) {
                String arg = text.substring("reset".length()).trim();
                if (!arg.startsWith("scope=") || arg.length() == "scope=".length()) {
                    throw new IllegalArgumentException("TokenGuard: invalid reset '" + text + "': expected reset "
                            + "scope=<scope key>, e.g. reset scope=thread:worker-3#41 or reset scope=global; "
                            + NOTHING_CHANGED);
                }
                String scopeKey = arg.substring("scope=".length());
                if (!engine.holdsScope(scopeKey)) {
                    throw new IllegalArgumentException("TokenGuard: no live scope '" + scopeKey + "' to reset: "
                            + "expected a scope key as status lists it, e.g. thread:worker-3#41, global or "
                            + "mdc:tenant=acme; " + NOTHING_CHANGED);
                }
                return List.of(new Step("*", "reset", scopeKey, "0"));
            }
            int eq = text.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("TokenGuard: invalid setting '" + text + "': expected key=value, "
                        + "e.g. budget.max-tokens=200k, mode=warn, enabled=false, budgets.<name>.max-tokens=1m, or "
                        + "reset scope=<scope key>; " + NOTHING_CHANGED);
            }
            String key = text.substring(0, eq).trim();
            String value = text.substring(eq + 1).trim();
            if (key.startsWith("tokenguard.")) {
                key = key.substring("tokenguard.".length());
            }
            if (key.equals("enabled")) {
                boolean on = parse(ConfigOptions.ENABLED, key, value);
                boolean was = enabled != null ? enabled : governor.governing();
                enabled = on;
                return List.of(new Step("*", key, String.valueOf(was), String.valueOf(on)));
            }
            if (key.equals("mode")) {
                EnforcementMode mode = parse(ConfigOptions.MODE, key, value);
                List<Step> steps = new ArrayList<>();
                for (BudgetSpec b : List.copyOf(after.values())) {
                    steps.add(change(b, "mode", mode(b, mode)));
                }
                return steps;
            }
            String budget;
            String budgetKey;
            if (key.startsWith("budget.")) {
                budget = BudgetSpec.DEFAULT_NAME;
                budgetKey = key.substring("budget.".length());
            } else if (key.startsWith("budgets.") && key.indexOf('.', "budgets.".length()) > 0) {
                int dot = key.indexOf('.', "budgets.".length());
                budget = key.substring("budgets.".length(), dot);
                budgetKey = key.substring(dot + 1);
            } else {
                throw new IllegalArgumentException("TokenGuard: '" + key + "' cannot be changed while the agent "
                        + "runs; expected budget.<limit>, budgets.<name>.<limit or mode>, mode or enabled (a limit: "
                        + String.join(", ", LIMIT_KEYS) + "); " + NOTHING_CHANGED);
            }
            BudgetSpec b = after.get(budget);
            if (b == null) {
                throw new IllegalArgumentException("TokenGuard: invalid key '" + key + "': there is no budget '"
                        + budget + "'; expected one of " + String.join(", ", after.keySet()) + "; "
                        + NOTHING_CHANGED);
            }
            BudgetSpec changed = switch (budgetKey) {
                case "max-tokens" -> withLimits(b, parse(tokensOption(budgetKey), key, value), b.maxInputTokens(),
                        b.maxOutputTokens(), b.maxCostUsd());
                case "max-input-tokens" -> withLimits(b, b.maxTokens(), parse(tokensOption(budgetKey), key, value),
                        b.maxOutputTokens(), b.maxCostUsd());
                case "max-output-tokens" -> withLimits(b, b.maxTokens(), b.maxInputTokens(),
                        parse(tokensOption(budgetKey), key, value), b.maxCostUsd());
                case "max-cost-usd" -> withLimits(b, b.maxTokens(), b.maxInputTokens(), b.maxOutputTokens(),
                        parse(ConfigOptions.BUDGET_MAX_COST_USD, key, value));
                case "mode" -> mode(b, parse(ConfigOptions.MODE, key, value));
                default -> throw new IllegalArgumentException("TokenGuard: '" + key + "' cannot be changed while "
                        + "the agent runs" + whyFixed(budgetKey) + "; a budget's live keys are "
                        + String.join(", ", LIMIT_KEYS) + " and mode; " + NOTHING_CHANGED);
            };
            return List.of(change(b, budgetKey, changed));
        }

        private Step change(BudgetSpec b, String key, BudgetSpec changed) {
            after.put(b.name(), changed);
            return new Step(b.name(), key, valueOf(b, key), valueOf(changed, key));
        }
    }

    /** Why a budget key known at start-up is fixed while the agent runs, or nothing for a key it does not know. */
    private static String whyFixed(String budgetKey) {
        return switch (budgetKey) {
            case "warn-at" -> " (each scope remembers which of its thresholds it has reported in the current window; "
                    + "new thresholds take effect at the next start)";
            case "window" -> " (usage is counted per window; a new window takes effect at the next start)";
            case "scope" -> " (usage is held per scope instance; a new scope takes effect at the next start)";
            default -> "";
        };
    }

    @Override
    public String resetScope(String scopeKey) {
        return set("reset scope=" + scopeKey);
    }

    @Override
    public String setMaxTokens(String budget, long maxTokens) {
        return set(budgetPrefix(budget) + "max-tokens=" + maxTokens);
    }

    @Override
    public String setMode(String budget, String mode) {
        return set(budgetPrefix(budget) + "mode=" + mode);
    }

    @Override
    public void switchOff() {
        set("enabled=false");
    }

    @Override
    public void switchOn() {
        set("enabled=true");
    }

    // ---------------------------------------------------------------------------------------------

    private void logChange(String budget, String key, String old, String now, String by) {
        if (log != null) {
            log.budgetChanged(changes, budget, key, old, now, by);
        }
    }

    private static String budgetPrefix(String budget) {
        return budget == null || budget.isEmpty() || budget.equals(BudgetSpec.DEFAULT_NAME) ? "budget."
                : "budgets." + budget + ".";
    }

    @SuppressWarnings("unchecked")
    private static ConfigOption<Long> tokensOption(String budgetKey) {
        Optional<ConfigOption<?>> o = ConfigOptions.find(ConfigOptions.BUDGET_PREFIX + budgetKey);
        return (ConfigOption<Long>) o.orElseThrow();
    }

    private static <T> T parse(ConfigOption<T> option, String key, String value) {
        try {
            return ConfigLoader.parseValue(option, key, value, SOURCE);
        } catch (ConfigException e) {
            String message = e.getMessage();
            int consequence = message.lastIndexOf("; TokenGuard is disabled");
            throw new IllegalArgumentException(
                    (consequence > 0 ? message.substring(0, consequence) : message) + "; " + NOTHING_CHANGED);
        }
    }

    private static BudgetSpec withLimits(BudgetSpec b, Long max, Long input, Long output, Double cost) {
        if (max == null && input == null && output == null && cost == null) {
            throw new IllegalArgumentException("TokenGuard: budget '" + b.name() + "' would have no limit left: "
                    + "expected at least one of max-tokens, max-input-tokens, max-output-tokens or max-cost-usd; "
                    + NOTHING_CHANGED);
        }
        return new BudgetSpec(b.name(), b.scope(), max, input, output, cost, b.window(), b.warnAt(), b.mode());
    }

    private static BudgetSpec mode(BudgetSpec b, EnforcementMode mode) {
        return new BudgetSpec(b.name(), b.scope(), b.maxTokens(), b.maxInputTokens(), b.maxOutputTokens(),
                b.maxCostUsd(), b.window(), b.warnAt(), mode);
    }

    private static String valueOf(BudgetSpec b, String key) {
        return switch (key) {
            case "max-tokens" -> b.maxTokens() == null ? null : b.maxTokens().toString();
            case "max-input-tokens" -> b.maxInputTokens() == null ? null : b.maxInputTokens().toString();
            case "max-output-tokens" -> b.maxOutputTokens() == null ? null : b.maxOutputTokens().toString();
            case "max-cost-usd" -> b.maxCostUsd() == null ? null
                    : BigDecimal.valueOf(b.maxCostUsd()).stripTrailingZeros().toPlainString();
            case "mode" -> modeText(b.mode());
            default -> throw new IllegalStateException(key);
        };
    }

    static String limits(BudgetSpec b) {
        List<String> parts = new ArrayList<>();
        for (String key : LIMIT_KEYS) {
            String v = valueOf(b, key);
            if (v != null) {
                parts.add(key + "=" + v);
            }
        }
        return parts.isEmpty() ? "no limit" : String.join(", ", parts);
    }

    private static String modeText(EnforcementMode mode) {
        return mode.name().toLowerCase(Locale.ROOT);
    }

    private static String text(String value) {
        return value == null ? "none" : value;
    }

    /** {@code scope used / limit tokens (percent)}; the percent is the highest over the budget's limits. */
    private String scopeLine(ScopeUtilization u) {
        BudgetState state = engine.state(u.budgetName(), u.scopeKey());
        long[] shared = null;
        BudgetSpec spec = null;
        for (BudgetSpec b : engine.budgets()) {
            if (b.name().equals(u.budgetName())) {
                spec = b;
                shared = engine.fleet().usage(b, u.scopeKey());
            }
        }
        double utilization = u.utilization();
        long used = state == null ? 0 : state.used();
        if (shared != null && state != null) {
            used = shared[dimensionOf(spec, state)];
            utilization = utilization(spec, shared);
        }
        String usage = state == null ? "" : state.limit() < 0 ? used + " tokens "
                : used + " / " + state.limit() + " tokens ";
        return u.scopeKey() + " " + usage + (shared != null && state != null ? "fleet " : "")
                + String.format(Locale.ROOT, "(%.1f%%)", utilization * 100);
    }

    /** Which dimension (total 0, input 1, output 2) a state of this budget reports. */
    private static int dimensionOf(BudgetSpec b, BudgetState state) {
        if (b.maxTokens() != null || state.limit() < 0) {
            return 0;
        }
        return b.maxInputTokens() != null && b.maxInputTokens() == state.limit() ? 1 : 2;
    }

    /** The highest fraction used over a budget's limits, for usage per dimension (cost in nano-USD). */
    private static double utilization(BudgetSpec b, long[] used) {
        double u = 0;
        Long[] tokens = {b.maxTokens(), b.maxInputTokens(), b.maxOutputTokens()};
        for (int d = 0; d < tokens.length; d++) {
            if (tokens[d] != null) {
                u = Math.max(u, tokens[d] == 0 ? 1 : (double) used[d] / tokens[d]);
            }
        }
        if (b.maxCostUsd() != null) {
            u = Math.max(u, b.maxCostUsd() == 0 ? 1 : used[3] / 1e9 / b.maxCostUsd());
        }
        return u;
    }
}
