package dev.tokenguard.control;

import dev.tokenguard.budget.BudgetSpec;

import java.util.Locale;

/**
 * One budget's MBean: reads and changes go through {@link Budgets}, so they are validated, made and logged exactly as
 * the {@code set} command's.
 */
final class BudgetControl implements BudgetControlMBean {
    private final Budgets budgets;
    private final String name;

    BudgetControl(Budgets budgets, String name) {
        this.budgets = budgets;
        this.name = name;
    }

    private BudgetSpec spec() {
        return budgets.spec(name);
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public String getScope() {
        return spec().scope().toString();
    }

    @Override
    public String getMode() {
        return spec().mode().name().toLowerCase(Locale.ROOT);
    }

    @Override
    public long getMaxTokens() {
        return orNone(spec().maxTokens());
    }

    @Override
    public long getMaxInputTokens() {
        return orNone(spec().maxInputTokens());
    }

    @Override
    public long getMaxOutputTokens() {
        return orNone(spec().maxOutputTokens());
    }

    @Override
    public double getMaxCostUsd() {
        Double cost = spec().maxCostUsd();
        return cost == null ? -1 : cost;
    }

    @Override
    public long getTotalUsed() {
        return budgets.totalUsed(name);
    }

    @Override
    public boolean isFleetUsage() {
        return budgets.fleetUsage(name);
    }

    @Override
    public String[] getTopScopes() {
        return budgets.topScopes(name);
    }

    @Override
    public String setMaxTokens(long maxTokens) {
        return set("max-tokens=" + maxTokens);
    }

    @Override
    public String setMode(String mode) {
        return set("mode=" + mode);
    }

    @Override
    public String set(String setting) {
        String text = setting == null ? "" : setting.trim();
        return budgets.set((name.equals(BudgetSpec.DEFAULT_NAME) ? "budget." : "budgets." + name + ".") + text);
    }

    @Override
    public String resetScope(String scopeKey) {
        return budgets.resetScope(scopeKey);
    }

    private static long orNone(Long limit) {
        return limit == null ? -1 : limit;
    }
}
