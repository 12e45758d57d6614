package dev.tokenguard.control;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.EnforcementMode;
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
import java.util.List;
import java.util.Locale;
import java.util.Optional;

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
    private static final String[] LIMIT_KEYS = {"max-tokens", "max-input-tokens", "max-output-tokens", "max-cost-usd"};

    private final BudgetEngine engine;
    private final Governor governor;
    private final SessionLogWriter log;
    private final CallCounts counts;
    private final Session changes;

    /**
     * @param log    the session log, or null when it is switched off
     * @param counts the calls, refusals and warnings so far
     */
    public Budgets(BudgetEngine engine, Governor governor, SessionLogWriter log, CallCounts counts) {
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
        return engine.budgets().stream().map(b -> b.name() + "=" + engine.totalUsed(b.name()))
                .toArray(String[]::new);
    }

    @Override
    public String[] getTopScopes() {
        List<String> lines = new ArrayList<>();
        for (ScopeUtilization u : engine.mostUtilized(TOP_SCOPES)) {
            lines.add(topScopeLine(u));
        }
        return lines.toArray(String[]::new);
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
        sb.append("calls: ").append(getCalls()).append(", refusals: ").append(getRefusals()).append(", warnings: ")
                .append(getWarnings()).append('\n');
        sb.append("budgets:\n");
        for (BudgetSpec b : engine.budgets()) {
            sb.append("  ").append(b.name()).append(" (scope ").append(b.scope()).append(", mode ")
                    .append(modeText(b.mode())).append("): ").append(limits(b)).append("; used ")
                    .append(engine.totalUsed(b.name())).append(" tokens over all scopes\n");
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
    public synchronized String setBy(String setting, String by) {
        String text = setting == null ? "" : setting.trim();
        if (text.startsWith("reset ") || text.equals("reset")) {
            String arg = text.substring("reset".length()).trim();
            if (!arg.startsWith("scope=") || arg.length() == "scope=".length()) {
                throw new IllegalArgumentException("TokenGuard: invalid reset '" + text + "': expected reset "
                        + "scope=<scope key>, e.g. reset scope=thread:worker-3#41 or reset scope=global; "
                        + NOTHING_CHANGED);
            }
            return reset(arg.substring("scope=".length()), by);
        }
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("TokenGuard: invalid setting '" + text + "': expected key=value, e.g. "
                    + "budget.max-tokens=200k, mode=warn, enabled=false, budgets.<name>.max-tokens=1m, or reset "
                    + "scope=<scope key>; " + NOTHING_CHANGED);
        }
        String key = text.substring(0, eq).trim();
        String value = text.substring(eq + 1).trim();
        if (key.startsWith("tokenguard.")) {
            key = key.substring("tokenguard.".length());
        }
        if (key.equals("enabled")) {
            boolean on = parse(ConfigOptions.ENABLED, key, value);
            boolean before = governor.governing();
            governor.governing(on);
            logChange("*", key, String.valueOf(before), String.valueOf(on), by);
            return "enabled: " + before + " -> " + on;
        }
        if (key.equals("mode")) {
            EnforcementMode mode = parse(ConfigOptions.MODE, key, value);
            List<String> done = new ArrayList<>();
            for (BudgetSpec b : engine.budgets()) {
                done.add(change(b, "mode", mode(b, mode), by));
            }
            return String.join("; ", done);
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
            throw new IllegalArgumentException("TokenGuard: '" + key + "' cannot be changed while the agent runs; "
                    + "expected budget.<limit>, budgets.<name>.<limit or mode>, mode or enabled (a limit: "
                    + String.join(", ", LIMIT_KEYS) + "); " + NOTHING_CHANGED);
        }
        BudgetSpec b = budgetNamed(budget, key);
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
            default -> throw new IllegalArgumentException("TokenGuard: '" + key + "' cannot be changed while the "
                    + "agent runs; a budget's live keys are " + String.join(", ", LIMIT_KEYS) + " and mode; "
                    + NOTHING_CHANGED);
        };
        return change(b, budgetKey, changed, by);
    }

    @Override
    public String resetScope(String scopeKey) {
        return reset(scopeKey, null);
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

    private synchronized String reset(String scopeKey, String by) {
        int n = engine.resetScope(scopeKey);
        if (n == 0) {
            throw new IllegalArgumentException("TokenGuard: no live scope '" + scopeKey + "' to reset: expected a "
                    + "scope key as status lists it, e.g. thread:worker-3#41, global or mdc:tenant=acme; "
                    + NOTHING_CHANGED);
        }
        logChange("*", "reset", scopeKey, "0", by);
        return "reset " + scopeKey + " (" + n + " budget" + (n == 1 ? "" : "s") + ")";
    }

    private String change(BudgetSpec before, String key, BudgetSpec after, String by) {
        try {
            engine.change(after);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TokenGuard: " + e.getMessage() + "; " + NOTHING_CHANGED, e);
        }
        String old = valueOf(before, key);
        String now = valueOf(after, key);
        logChange(before.name(), key, old, now, by);
        return before.name() + "." + key + ": " + text(old) + " -> " + text(now);
    }

    private void logChange(String budget, String key, String old, String now, String by) {
        if (log != null) {
            log.budgetChanged(changes, budget, key, old, now, by);
        }
    }

    private BudgetSpec budgetNamed(String name, String key) {
        for (BudgetSpec b : engine.budgets()) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("TokenGuard: invalid key '" + key + "': there is no budget '" + name
                + "'; expected one of " + String.join(", ", getBudgetNames()) + "; " + NOTHING_CHANGED);
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

    /** {@code budget scope used / limit tokens (percent)}; the percent is the highest over the budget's limits. */
    private String topScopeLine(ScopeUtilization u) {
        BudgetState state = engine.state(u.budgetName(), u.scopeKey());
        String usage = state == null ? "" : state.limit() < 0 ? state.used() + " tokens "
                : state.used() + " / " + state.limit() + " tokens ";
        return u.budgetName() + " " + u.scopeKey() + " " + usage
                + String.format(Locale.ROOT, "(%.1f%%)", u.utilization() * 100);
    }
}
