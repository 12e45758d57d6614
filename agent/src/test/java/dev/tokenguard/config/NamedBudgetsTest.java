package dev.tokenguard.config;

import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.tokenguard.config.ConfigFixtures.assertArrayEqualsExactly;
import static dev.tokenguard.config.ConfigFixtures.assertContains;
import static dev.tokenguard.config.ConfigFixtures.sources;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class NamedBudgetsTest {
    @TempDir
    Path dir;

    @Test
    void namedBudgetWithDefaultsInherited() throws Exception {
        TokenGuardConfig c = sources().prop("tokenguard.budgets.batch.max-tokens", "5000").load();
        assertEquals(2, c.budgets().size());
        assertEquals("default", c.budgets().get(0).name());
        assertEquals(new BudgetSpec("batch", ScopeSpec.THREAD, 5000L, null, null, null, null,
                new double[]{0.75, 0.90, 0.95}, EnforcementMode.ENFORCE), c.budgets().get(1));
    }

    @Test
    void scopeWindowWarnAtAndModeInheritFromTheDefaultBudgetButLimitsDoNot() throws Exception {
        TokenGuardConfig c = sources().args("mode=warn,budget.scope=global,budget.window=1h,budget.warn-at=0.5")
                .prop("tokenguard.budget.max-input-tokens", "10").prop("tokenguard.budget.max-cost-usd", "1")
                .prop("tokenguard.budgets.batch.max-output-tokens", "99").load();
        BudgetSpec batch = c.budgets().get(1);
        assertEquals(ScopeSpec.GLOBAL, batch.scope());
        assertEquals(Duration.ofHours(1), batch.window());
        assertArrayEqualsExactly(new double[]{0.5}, batch.warnAt());
        assertEquals(EnforcementMode.WARN, batch.mode());
        assertEquals(100_000L, c.defaultBudget().maxTokens());
        assertNull(batch.maxTokens());
        assertNull(batch.maxInputTokens());
        assertNull(batch.maxCostUsd());
        assertEquals(99L, batch.maxOutputTokens());
    }

    @Test
    void namedBudgetOverridesEveryKey() throws Exception {
        TokenGuardConfig c = sources().args("budget.window=1h")
                .prop("tokenguard.budgets.tenant.max-tokens", "1M")
                .prop("tokenguard.budgets.tenant.max-input-tokens", "800k")
                .prop("tokenguard.budgets.tenant.max-output-tokens", "200k")
                .prop("tokenguard.budgets.tenant.max-cost-usd", "12.5")
                .prop("tokenguard.budgets.tenant.scope", "mdc:tenant")
                .prop("tokenguard.budgets.tenant.window", "none")
                .prop("tokenguard.budgets.tenant.warn-at", "0.8;0.99")
                .prop("tokenguard.budgets.tenant.mode", "warn").load();
        assertEquals(new BudgetSpec("tenant", ScopeSpec.mdc("tenant"), 1_000_000L, 800_000L, 200_000L, 12.5, null,
                new double[]{0.8, 0.99}, EnforcementMode.WARN), c.budgets().get(1));
        assertEquals(EnforcementMode.ENFORCE, c.defaultBudget().mode());
        assertEquals(Duration.ofHours(1), c.defaultBudget().window());
    }

    @Test
    void namedBudgetsComeAfterTheDefaultInNameOrder() throws Exception {
        TokenGuardConfig c = sources().prop("tokenguard.budgets.zeta.max-tokens", "1")
                .args("budgets.alpha.max-tokens=2").env("TOKENGUARD_BUDGETS_MID_MAX_TOKENS", "3").load();
        assertEquals(List.of("default", "alpha", "mid", "zeta"), c.budgets().stream().map(BudgetSpec::name).toList());
    }

    @Test
    void environmentFormMatchesTheKeyAsASuffixAndLowerCasesTheName() throws Exception {
        TokenGuardConfig c = sources().env("TOKENGUARD_BUDGETS_BATCH_JOBS_MAX_INPUT_TOKENS", "40")
                .env("TOKENGUARD_BUDGETS_BATCH_JOBS_MAX_TOKENS", "50")
                .env("TOKENGUARD_BUDGETS_BATCH_JOBS_WARN_AT", "0.5")
                .env("TOKENGUARD_BUDGETS_BATCH_JOBS_MODE", "warn").load();
        BudgetSpec b = c.budgets().get(1);
        assertEquals("batch_jobs", b.name());
        assertEquals(40L, b.maxInputTokens());
        assertEquals(50L, b.maxTokens());
        assertArrayEqualsExactly(new double[]{0.5}, b.warnAt());
        assertEquals(EnforcementMode.WARN, b.mode());
        assertEquals("environment variable TOKENGUARD_BUDGETS_BATCH_JOBS_MAX_TOKENS",
                c.sourceOf("tokenguard.budgets.batch_jobs.max-tokens"));
    }

    @Test
    void environmentFormJoinsABudgetNamedInAnotherSource() throws Exception {
        TokenGuardConfig c = sources().prop("tokenguard.budgets.Batch-Jobs.max-tokens", "50")
                .env("TOKENGUARD_BUDGETS_BATCH_JOBS_MAX_TOKENS", "7")
                .env("TOKENGUARD_BUDGETS_BATCH_JOBS_SCOPE", "global").load();
        assertEquals(2, c.budgets().size());
        BudgetSpec b = c.budgets().get(1);
        assertEquals("Batch-Jobs", b.name());
        assertEquals(50L, b.maxTokens());
        assertEquals(ScopeSpec.GLOBAL, b.scope());
    }

    @Test
    void environmentFormJoinsABudgetNamedInTheConfigFile() throws Exception {
        Path file = dir.resolve("tg.yaml");
        Files.writeString(file, "tokenguard:\n  budgets:\n    nightly-run:\n      max-tokens: 10\n      window: 1d\n");
        TokenGuardConfig c = sources().env("TOKENGUARD_CONFIG_FILE", file.toString())
                .env("TOKENGUARD_BUDGETS_NIGHTLY_RUN_MAX_TOKENS", "20").load();
        BudgetSpec b = c.budgets().get(1);
        assertEquals("nightly-run", b.name());
        assertEquals(20L, b.maxTokens());
        assertEquals(Duration.ofDays(1), b.window());
    }

    @Test
    void namedBudgetKeysFollowTheSamePrecedence() throws Exception {
        Path file = dir.resolve("tg.properties");
        Files.writeString(file, "budgets.batch.max-tokens=4\nbudgets.batch.mode=warn\n");
        ConfigFixtures s = sources().prop("tokenguard.config.file", file.toString())
                .env("TOKENGUARD_BUDGETS_BATCH_MAX_TOKENS", "3");
        assertEquals(3L, s.load().budgets().get(1).maxTokens());
        assertEquals(EnforcementMode.WARN, s.load().budgets().get(1).mode());
        s.prop("tokenguard.budgets.batch.max-tokens", "2");
        assertEquals(2L, s.load().budgets().get(1).maxTokens());
        s.args("budgets.batch.max-tokens=1");
        assertEquals(1L, s.load().budgets().get(1).maxTokens());
    }

    @Test
    void namedBudgetWithoutAnyLimitIsAnError() {
        String m = sources().prop("tokenguard.budgets.batch.scope", "global").error();
        assertContains(m, "budget 'batch' has no limit", "tokenguard.budgets.batch.scope from -D system property",
                "expected at least one of tokenguard.budgets.batch.max-tokens");
    }

    @Test
    void namedBudgetLimitSetToNoneLeavesNoLimit() {
        assertContains(sources().prop("tokenguard.budgets.batch.max-tokens", "none").error(), "budget 'batch' has no limit");
    }

    @Test
    void badNamedBudgetValueNamesTheNamedKey() {
        String m = sources().env("TOKENGUARD_BUDGETS_BATCH_WINDOW", "7h").env("TOKENGUARD_BUDGETS_BATCH_MAX_TOKENS", "5")
                .error();
        assertContains(m, "invalid value '7h' for tokenguard.budgets.batch.window"
                + " (from environment variable TOKENGUARD_BUDGETS_BATCH_WINDOW)", "expected <n>m, <n>h or <n>d");
        assertContains(sources().prop("tokenguard.budgets.batch.mode", "off").error(),
                "invalid value 'off' for tokenguard.budgets.batch.mode (from -D system property): expected enforce or warn");
    }

    @Test
    void unknownNamedBudgetKeySuggestsTheClosest() {
        String m = sources().prop("tokenguard.budgets.batch.max-token", "5").error();
        assertContains(m, "unknown budget key 'max-token' in tokenguard.budgets.batch.max-token (from -D system property)",
                "the closest known key is tokenguard.budgets.batch.max-tokens");
    }

    @Test
    void budgetsWithoutANameSuggestsTheDefaultBudget() {
        assertContains(sources().args("budgets.max-tokens=5").error(),
                "unknown configuration key tokenguard.budgets.max-tokens (from agent argument)",
                "tokenguard.budget.max-tokens (the default budget)", "tokenguard.budgets.<name>.<key>");
    }

    @Test
    void budgetNamesAreRestricted() {
        assertContains(sources().prop("tokenguard.budgets.a.b.max-tokens", "5").error(),
                "invalid budget name 'a.b' in tokenguard.budgets.a.b.max-tokens", "expected letters, digits, '_' and '-'");
        assertContains(sources().prop("tokenguard.budgets.a b.max-tokens", "5").error(), "invalid budget name 'a b'");
        assertContains(sources().prop("tokenguard.budgets.default.max-tokens", "5").error(),
                "budget name 'default'", "expected tokenguard.budget.max-tokens for the default budget");
    }

    @Test
    void unknownEnvironmentBudgetKeySuggestsTheClosest() {
        String m = sources().env("TOKENGUARD_BUDGETS_BATCH_MAX_TOKEN", "5").error();
        assertContains(m, "unknown environment variable TOKENGUARD_BUDGETS_BATCH_MAX_TOKEN",
                "the closest known form is TOKENGUARD_BUDGETS_BATCH_MAX_TOKENS", "TOKENGUARD_BUDGETS_<NAME>_<KEY>");
        assertContains(sources().env("TOKENGUARD_BUDGETS_MAX_TOKENS", "5").error(),
                "unknown environment variable TOKENGUARD_BUDGETS_MAX_TOKENS");
    }

    @Test
    void nestedYamlNamedBudgets() throws Exception {
        Path file = dir.resolve("tg.yaml");
        Files.writeString(file, """
                tokenguard:
                  budget:
                    scope: mdc:tenant
                  budgets:
                    batch:
                      max-cost-usd: 3.5
                    chat:
                      max-tokens: 20k
                      scope: thread
                """);
        TokenGuardConfig c = sources().prop("tokenguard.config.file", file.toString()).load();
        assertEquals(List.of("default", "batch", "chat"), c.budgets().stream().map(BudgetSpec::name).toList());
        assertEquals(3.5, c.budgets().get(1).maxCostUsd());
        assertEquals(ScopeSpec.mdc("tenant"), c.budgets().get(1).scope());
        assertEquals(20_000L, c.budgets().get(2).maxTokens());
        assertEquals(ScopeSpec.THREAD, c.budgets().get(2).scope());
    }

    @Test
    void namedBudgetKeysAreTheDefaultBudgetKeysPlusMode() {
        assertEquals(List.of("max-tokens", "max-input-tokens", "max-output-tokens", "max-cost-usd", "scope", "window",
                "warn-at", "mode"), ConfigOptions.namedBudgetKeys());
    }
}
