package dev.tokenguard.budget;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * One configured budget: its name, how it scopes calls, its limits, its window and its warning
 * thresholds. A limit that is {@code null} is not enforced. Immutable.
 *
 * @param name            {@code default} for the unnamed budget, otherwise the name in {@code tokenguard.budgets.<name>.*}
 * @param scope           how calls are grouped into scope instances
 * @param maxTokens       total (input + output) tokens per scope instance, or null
 * @param maxInputTokens  input tokens per scope instance, or null
 * @param maxOutputTokens output tokens per scope instance, or null
 * @param maxCostUsd      estimated cost per scope instance in USD, or null
 * @param window          fixed UTC-aligned window after which usage resets, or null for none
 * @param warnAt          warning thresholds, fractions of the limit, ascending, each in (0, 1]
 * @param mode            enforce or only warn
 */
public record BudgetSpec(String name, ScopeSpec scope, Long maxTokens, Long maxInputTokens, Long maxOutputTokens,
                         Double maxCostUsd, Duration window, double[] warnAt, EnforcementMode mode) {

    public static final String DEFAULT_NAME = "default";

    public BudgetSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(mode, "mode");
        warnAt = warnAt == null ? new double[0] : warnAt.clone();
        Arrays.sort(warnAt);
    }

    @Override
    public double[] warnAt() {
        return warnAt.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BudgetSpec b && b.name.equals(name) && b.scope.equals(scope)
                && Objects.equals(b.maxTokens, maxTokens) && Objects.equals(b.maxInputTokens, maxInputTokens)
                && Objects.equals(b.maxOutputTokens, maxOutputTokens) && Objects.equals(b.maxCostUsd, maxCostUsd)
                && Objects.equals(b.window, window) && Arrays.equals(b.warnAt, warnAt) && b.mode == mode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, scope, maxTokens, maxInputTokens, maxOutputTokens, maxCostUsd, window,
                Arrays.hashCode(warnAt), mode);
    }

    @Override
    public String toString() {
        return "BudgetSpec[" + name + ", scope=" + scope + ", maxTokens=" + maxTokens + ", maxInputTokens="
                + maxInputTokens + ", maxOutputTokens=" + maxOutputTokens + ", maxCostUsd=" + maxCostUsd
                + ", window=" + window + ", warnAt=" + Arrays.toString(warnAt) + ", mode=" + mode + "]";
    }
}
