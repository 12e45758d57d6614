package dev.tokenguard.config;

import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's configuration, read once from all sources by {@link ConfigLoader}. Immutable.
 */
public final class TokenGuardConfig {
    private final boolean enabled;
    private final EnforcementMode mode;
    private final List<BudgetSpec> budgets;
    private final boolean injectWarnings;
    private final boolean sessionLogEnabled;
    private final Path sessionLogDir;
    private final boolean captureContent;
    private final Path pricingFile;
    private final boolean otelEnabled;
    private final List<HttpEndpoint> httpEndpoints;
    private final java.util.Set<String> disabledInstrumentations;
    private final Map<String, Setting> resolved;

    TokenGuardConfig(boolean enabled, EnforcementMode mode, List<BudgetSpec> budgets, boolean injectWarnings,
                     boolean sessionLogEnabled, Path sessionLogDir, boolean captureContent, Path pricingFile,
                     boolean otelEnabled, List<HttpEndpoint> httpEndpoints, java.util.Set<String> disabledInstrumentations,
                     Map<String, Setting> resolved) {
        this.disabledInstrumentations = java.util.Set.copyOf(disabledInstrumentations);
        this.enabled = enabled;
        this.mode = mode;
        this.budgets = List.copyOf(budgets);
        this.injectWarnings = injectWarnings;
        this.sessionLogEnabled = sessionLogEnabled;
        this.sessionLogDir = sessionLogDir;
        this.captureContent = captureContent;
        this.pricingFile = pricingFile;
        this.otelEnabled = otelEnabled;
        this.httpEndpoints = List.copyOf(httpEndpoints);
        this.resolved = Map.copyOf(resolved);
    }

    /** The configuration of an agent given no settings at all. */
    public static TokenGuardConfig defaults() {
        try {
            return ConfigLoader.load(null, new java.util.Properties(), Map.of());
        } catch (ConfigException e) {
            throw new IllegalStateException("the built-in defaults do not parse: " + e.getMessage(), e);
        }
    }

    /** {@code tokenguard.enabled}: when false the agent installs nothing (and the other values are the defaults). */
    public boolean enabled() {
        return enabled;
    }

    /** {@code tokenguard.mode}: the default budget's mode, and that of named budgets that set none. */
    public EnforcementMode mode() {
        return mode;
    }

    /** The budgets: first {@code default} (from {@code tokenguard.budget.*}), then the named ones in name order. */
    public List<BudgetSpec> budgets() {
        return budgets;
    }

    /** The {@code default} budget, {@code budgets().get(0)}. */
    public BudgetSpec defaultBudget() {
        return budgets.get(0);
    }

    /** {@code tokenguard.warnings.inject}. */
    public boolean injectWarnings() {
        return injectWarnings;
    }

    /** {@code tokenguard.session-log.enabled}. */
    public boolean sessionLogEnabled() {
        return sessionLogEnabled;
    }

    /** {@code tokenguard.session-log.dir}, as given (a relative path is relative to the working directory). */
    public Path sessionLogDir() {
        return sessionLogDir;
    }

    /** {@code tokenguard.session-log.capture-content}. */
    public boolean captureContent() {
        return captureContent;
    }

    /** {@code tokenguard.pricing.file}: an existing, readable file, when set. */
    public Optional<Path> pricingFile() {
        return Optional.ofNullable(pricingFile);
    }

    /** {@code tokenguard.otel.enabled}. */
    public boolean otelEnabled() {
        return otelEnabled;
    }

    /** {@code tokenguard.call-site.enabled} (validated when the configuration was loaded). */
    public boolean callSiteEnabled() {
        return ConfigOptions.CALL_SITE_ENABLED.parse(get(ConfigOptions.CALL_SITE_ENABLED.key()));
    }

    /** {@code tokenguard.otel.budget-scopes} (validated when the configuration was loaded). */
    public int otelBudgetScopes() {
        return ConfigOptions.OTEL_BUDGET_SCOPES.parse(get(ConfigOptions.OTEL_BUDGET_SCOPES.key()));
    }

    /** {@code tokenguard.instrumentation.<name>.enabled} of the plugin named {@code name}. */
    public boolean instrumentationEnabled(String name) {
        return !disabledInstrumentations.contains(ConfigOptions.PREFIX + "instrumentation." + name + ".enabled");
    }

    /** {@code tokenguard.http.endpoints}, in the order given; empty when unset. */
    public List<HttpEndpoint> httpEndpoints() {
        return httpEndpoints;
    }

    /**
     * {@code tokenguard.budget.reserve-output} and {@code tokenguard.budget.reserve-wait} (validated when the
     * configuration was loaded).
     */
    public dev.tokenguard.core.Reservations reservations() {
        return new dev.tokenguard.core.Reservations(value(ConfigOptions.BUDGET_RESERVE_OUTPUT),
                value(ConfigOptions.BUDGET_RESERVE_WAIT));
    }

    /** {@code tokenguard.budget.idle-release}. */
    public java.time.Duration idleRelease() {
        return value(ConfigOptions.BUDGET_IDLE_RELEASE);
    }

    /**
     * The raw resolved value of a key (the highest-precedence source's, else the option's default), e.g.
     * {@code get("tokenguard.budget.window")}; {@code null} when unset and without default.
     */
    public String get(String key) {
        Setting s = resolved.get(key);
        if (s != null) {
            return s.value();
        }
        Optional<ConfigOption<?>> option = ConfigOptions.find(key);
        return option.isPresent() ? option.get().defaultText() : null;
    }

    /**
     * The parsed value of an option (validated at load, so it parses), e.g.
     * {@code value(ConfigOptions.SESSION_LOG_LAYOUT)}; {@code null} when unset and without default, or {@code none}.
     */
    public <T> T value(ConfigOption<T> option) {
        String text = get(option.key());
        return text == null ? null : option.parse(text);
    }

    /**
     * Where the value of {@link #get(String)} came from: "agent argument", "-D system property",
     * "environment variable NAME", "config file PATH", or "default".
     */
    public String sourceOf(String key) {
        Setting s = resolved.get(key);
        return s == null ? "default" : s.source();
    }

    @Override
    public String toString() {
        return "TokenGuardConfig[enabled=" + enabled + ", mode=" + mode + ", budgets=" + budgets + ", injectWarnings="
                + injectWarnings + ", sessionLogEnabled=" + sessionLogEnabled + ", sessionLogDir=" + sessionLogDir
                + ", captureContent=" + captureContent + ", pricingFile=" + pricingFile + ", otelEnabled=" + otelEnabled
                + ", httpEndpoints=" + httpEndpoints + "]";
    }
}
