package dev.tokenguard.config;

import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.tokenguard.config.ConfigFixtures.assertArrayEqualsExactly;
import static dev.tokenguard.config.ConfigFixtures.assertContains;
import static dev.tokenguard.config.ConfigFixtures.sources;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigSourcesTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    @Test
    void defaultsAreTheSpecTable() throws Exception {
        TokenGuardConfig c = sources().load();
        assertTrue(c.enabled());
        assertEquals(EnforcementMode.ENFORCE, c.mode());
        assertEquals(1, c.budgets().size());
        BudgetSpec d = c.budgets().get(0);
        assertEquals(new BudgetSpec("default", ScopeSpec.THREAD, 100_000L, null, null, null, null,
                new double[]{0.75, 0.90, 0.95}, EnforcementMode.ENFORCE), d);
        assertEquals(d, c.defaultBudget());
        assertFalse(c.injectWarnings());
        assertTrue(c.sessionLogEnabled());
        assertEquals(Path.of("tokenguard-sessions"), c.sessionLogDir());
        assertFalse(c.captureContent());
        assertTrue(c.pricingFile().isEmpty());
        assertTrue(c.otelEnabled());
        assertEquals(List.of(), c.httpEndpoints());
        assertEquals(c.toString(), TokenGuardConfig.defaults().toString());
    }

    @Test
    void eachSourceAloneSetsAValue() throws Exception {
        assertEquals(EnforcementMode.WARN, sources().args("mode=warn").load().mode());
        assertEquals(EnforcementMode.WARN, sources().prop("tokenguard.mode", "warn").load().mode());
        assertEquals(EnforcementMode.WARN, sources().env("TOKENGUARD_MODE", "warn").load().mode());
        Path file = write("tg.properties", "tokenguard.mode=warn\n");
        assertEquals(EnforcementMode.WARN, sources().prop("tokenguard.config.file", file.toString()).load().mode());
    }

    @Test
    void precedenceIsArgsThenSystemPropertiesThenEnvironmentThenFileThenDefault() throws Exception {
        String key = "tokenguard.budget.max-tokens";
        Path file = write("tg.properties", key + "=4\n");
        ConfigFixtures s = sources().args("budget.max-tokens=1").prop(key, "2").env("TOKENGUARD_BUDGET_MAX_TOKENS", "3")
                .env("TOKENGUARD_CONFIG_FILE", file.toString());
        TokenGuardConfig c = s.load();
        assertEquals(1L, c.defaultBudget().maxTokens());
        assertEquals("agent argument", c.sourceOf(key));

        s.args(null);
        c = s.load();
        assertEquals(2L, c.defaultBudget().maxTokens());
        assertEquals("-D system property", c.sourceOf(key));

        s.props.remove(key);
        c = s.load();
        assertEquals(3L, c.defaultBudget().maxTokens());
        assertEquals("environment variable TOKENGUARD_BUDGET_MAX_TOKENS", c.sourceOf(key));

        s.env.remove("TOKENGUARD_BUDGET_MAX_TOKENS");
        c = s.load();
        assertEquals(4L, c.defaultBudget().maxTokens());
        assertEquals("config file " + file, c.sourceOf(key));

        Files.writeString(file, "");
        c = s.load();
        assertEquals(100_000L, c.defaultBudget().maxTokens());
        assertEquals("default", c.sourceOf(key));
    }

    @Test
    void precedenceIsPerKeySoSourcesCombine() throws Exception {
        Path file = write("tg.yaml", "tokenguard:\n  session-log:\n    dir: from-file\n  otel:\n    enabled: false\n");
        TokenGuardConfig c = sources().args("mode=warn").prop("tokenguard.warnings.inject", "true")
                .env("TOKENGUARD_SESSION_LOG_CAPTURE_CONTENT", "true").env("TOKENGUARD_CONFIG_FILE", file.toString())
                .load();
        assertEquals(EnforcementMode.WARN, c.mode());
        assertTrue(c.injectWarnings());
        assertTrue(c.captureContent());
        assertEquals(Path.of("from-file"), c.sessionLogDir());
        assertFalse(c.otelEnabled());
    }

    @Test
    void blankValueCountsAsNotSetAndFallsThrough() throws Exception {
        TokenGuardConfig c = sources().args("mode=").prop("tokenguard.mode", " ").env("TOKENGUARD_MODE", "warn").load();
        assertEquals(EnforcementMode.WARN, c.mode());
        assertEquals("environment variable TOKENGUARD_MODE", c.sourceOf("tokenguard.mode"));
    }

    @Test
    void agentArgumentKeysMayCarryThePrefixAndValuesAreTrimmed() throws Exception {
        TokenGuardConfig c = sources().args(" tokenguard.mode = warn , budget.scope=global,,").load();
        assertEquals(EnforcementMode.WARN, c.mode());
        assertEquals(ScopeSpec.GLOBAL, c.defaultBudget().scope());
    }

    @Test
    void onlyPrefixedSystemPropertiesAndEnvironmentVariablesAreRead() throws Exception {
        TokenGuardConfig c = sources().prop("mode", "warn").prop("budget.max-tokens", "lots")
                .prop("otel.exporter.otlp.endpoint", "http://localhost:4318").prop("tokenguardx.mode", "warn")
                .env("MODE", "warn").env("OTEL_SERVICE_NAME", "svc").env("tokenguard_mode", "warn")
                .env("TOKENGUARDMODE", "warn").load();
        assertEquals(EnforcementMode.ENFORCE, c.mode());
        assertEquals(100_000L, c.defaultBudget().maxTokens());
    }

    @Test
    void internalSystemPropertiesAreIgnored() throws Exception {
        TokenGuardConfig c = sources().prop(ConfigOptions.INTERNAL_PREFIX + "installed", "true").load();
        assertTrue(c.enabled());
    }

    @Test
    void environmentNamesAreUpperCaseWithDotsAndDashesAsUnderscores() throws Exception {
        assertEquals("TOKENGUARD_SESSION_LOG_CAPTURE_CONTENT", ConfigOptions.SESSION_LOG_CAPTURE_CONTENT.environmentVariable());
        assertEquals("TOKENGUARD_BUDGET_MAX_COST_USD", ConfigOptions.BUDGET_MAX_COST_USD.environmentVariable());
        assertEquals("TOKENGUARD_CONFIG_FILE", ConfigOptions.CONFIG_FILE.environmentVariable());
        TokenGuardConfig c = sources().env("TOKENGUARD_ENABLED", "true").env("TOKENGUARD_BUDGET_MAX_INPUT_TOKENS", "10")
                .env("TOKENGUARD_BUDGET_MAX_OUTPUT_TOKENS", "20").env("TOKENGUARD_BUDGET_MAX_COST_USD", "1.25")
                .env("TOKENGUARD_BUDGET_SCOPE", "mdc:tenant").env("TOKENGUARD_BUDGET_WINDOW", "1h")
                .env("TOKENGUARD_BUDGET_WARN_AT", "0.5").env("TOKENGUARD_WARNINGS_INJECT", "true")
                .env("TOKENGUARD_SESSION_LOG_ENABLED", "false").env("TOKENGUARD_SESSION_LOG_DIR", "logs")
                .env("TOKENGUARD_HTTP_ENDPOINTS", "http://llm.internal:8000=openai").env("TOKENGUARD_OTEL_ENABLED", "false")
                .load();
        BudgetSpec d = c.defaultBudget();
        assertEquals(10L, d.maxInputTokens());
        assertEquals(20L, d.maxOutputTokens());
        assertEquals(1.25, d.maxCostUsd());
        assertEquals(ScopeSpec.mdc("tenant"), d.scope());
        assertEquals(Duration.ofHours(1), d.window());
        assertArrayEqualsExactly(new double[]{0.5}, d.warnAt());
        assertTrue(c.injectWarnings());
        assertFalse(c.sessionLogEnabled());
        assertEquals(Path.of("logs"), c.sessionLogDir());
        assertFalse(c.otelEnabled());
        assertEquals(List.of(new HttpEndpoint(URI.create("http://llm.internal:8000"), "openai")), c.httpEndpoints());
    }

    @Test
    void listValuesInAgentArgumentsUseSemicolons() throws Exception {
        TokenGuardConfig c = sources()
                .args("budget.warn-at=0.9;0.5,http.endpoints=http://llm.internal:8000=openai;https://gw.example.com/v1")
                .load();
        assertArrayEqualsExactly(new double[]{0.5, 0.9}, c.defaultBudget().warnAt());
        assertEquals(List.of(new HttpEndpoint(URI.create("http://llm.internal:8000"), "openai"),
                new HttpEndpoint(URI.create("https://gw.example.com/v1"), null)), c.httpEndpoints());
    }

    @Test
    void commaInsideAnAgentArgumentListIsExplained() {
        String m = sources().args("budget.warn-at=0.5,0.9").error();
        assertContains(m, "invalid agent argument '0.9'", "key=value", "';'", "budget.warn-at=0.5;0.9");
    }

    @Test
    void commasStillSeparateListItemsOutsideAgentArguments() throws Exception {
        TokenGuardConfig c = sources().prop("tokenguard.budget.warn-at", "0.5, 0.9").load();
        assertArrayEqualsExactly(new double[]{0.5, 0.9}, c.defaultBudget().warnAt());
    }

    @Test
    void keySetTwiceInAgentArgumentsIsAnError() {
        String m = sources().args("mode=warn,mode=enforce").error();
        assertContains(m, "tokenguard.mode is set twice in the agent arguments", "'warn'", "'enforce'");
    }

    @Test
    void agentArgumentWithoutKeyIsAnError() {
        assertContains(sources().args("=warn").error(), "invalid agent argument '=warn'");
    }

    @Test
    void propertiesFileNamedByAgentArgument() throws Exception {
        Path file = write("tg.properties", "# comment\ntokenguard.budget.max-tokens = 5000\nbudget.scope=global\n");
        TokenGuardConfig c = sources().args("config.file=" + file).load();
        assertEquals(5000L, c.defaultBudget().maxTokens());
        assertEquals(ScopeSpec.GLOBAL, c.defaultBudget().scope());
        assertEquals(file.toString(), c.get("tokenguard.config.file"));
    }

    @Test
    void nestedYamlFile() throws Exception {
        Path file = write("tg.yaml", """
                tokenguard:
                  mode: warn
                  budget:
                    max-tokens: 5000
                    window: 1d
                    warn-at: [0.5, 0.8]
                  http:
                    endpoints:
                      - http://llm.internal:8000=openai
                      - https://gw.example.com
                """);
        TokenGuardConfig c = sources().env("TOKENGUARD_CONFIG_FILE", file.toString()).load();
        assertEquals(EnforcementMode.WARN, c.mode());
        assertEquals(5000L, c.defaultBudget().maxTokens());
        assertEquals(Duration.ofDays(1), c.defaultBudget().window());
        assertArrayEqualsExactly(new double[]{0.5, 0.8}, c.defaultBudget().warnAt());
        assertEquals(2, c.httpEndpoints().size());
        assertEquals("config file " + file, c.sourceOf("tokenguard.budget.window"));
    }

    @Test
    void flatYamlFileWithAndWithoutPrefix() throws Exception {
        Path file = write("tg.yml", """
                tokenguard.budget.max-tokens: 7000
                budget.max-cost-usd: 2.50
                session-log:
                  enabled: false
                tokenguard.budget.warn-at: "0.6,0.7"
                tokenguard.budget.window: ~
                """);
        TokenGuardConfig c = sources().prop("tokenguard.config.file", file.toString()).load();
        assertEquals(7000L, c.defaultBudget().maxTokens());
        assertEquals(2.5, c.defaultBudget().maxCostUsd());
        assertFalse(c.sessionLogEnabled());
        assertArrayEqualsExactly(new double[]{0.6, 0.7}, c.defaultBudget().warnAt());
        assertNull(c.defaultBudget().window());
    }

    @Test
    void emptyYamlFileSetsNothing() throws Exception {
        Path file = write("tg.yaml", "# nothing yet\n");
        assertEquals(100_000L, sources().prop("tokenguard.config.file", file.toString()).load().defaultBudget().maxTokens());
    }

    @Test
    void yamlKeySetNestedAndFlatIsAnError() throws Exception {
        Path file = write("tg.yaml", "tokenguard:\n  mode: warn\ntokenguard.mode: enforce\n");
        assertContains(sources().prop("tokenguard.config.file", file.toString()).error(),
                "tokenguard.mode is set twice in config file " + file);
    }

    @Test
    void keySetWithAndWithoutPrefixInOneFileIsAnError() throws Exception {
        Path file = write("tg.properties", "mode=warn\ntokenguard.mode=enforce\n");
        assertContains(sources().prop("tokenguard.config.file", file.toString()).error(),
                "tokenguard.mode is set twice in config file " + file);
    }

    @Test
    void malformedYamlIsOneLineNamingTheFile() throws Exception {
        Path file = write("tg.yaml", "tokenguard:\n  mode: [warn\n  budget: {\n");
        String m = sources().prop("tokenguard.config.file", file.toString()).error();
        assertContains(m, "cannot parse config file " + file + " at line 3, column 9: while parsing a flow sequence",
                "expected YAML that maps keys to values");
        assertFalse(m.contains("^"), "no caret lines quoted from the parser: " + m);
    }

    @Test
    void duplicateYamlKeyIsAnErrorWithItsLine() throws Exception {
        Path file = write("tg.yaml", "tokenguard:\n  mode: warn\n  mode: enforce\n");
        String m = sources().prop("tokenguard.config.file", file.toString()).error();
        assertContains(m, "cannot parse config file " + file + " at line 3", "Duplicate field 'mode'");
    }

    @Test
    void yamlThatIsNotAMapIsAnError() throws Exception {
        Path file = write("tg.yaml", "- mode\n- warn\n");
        assertContains(sources().prop("tokenguard.config.file", file.toString()).error(),
                "cannot use config file " + file, "top level is a list", "expected YAML that maps keys to values");
    }

    @Test
    void yamlListOfMapsIsAnError() throws Exception {
        Path file = write("tg.yaml", "tokenguard:\n  http:\n    endpoints:\n      - url: http://x\n");
        assertContains(sources().prop("tokenguard.config.file", file.toString()).error(),
                "tokenguard.http.endpoints in config file " + file, "expected a list of plain values");
    }

    @Test
    void missingConfigFileNamesTheFileAndWhereItWasNamed() {
        Path missing = dir.resolve("nope.yaml");
        String m = sources().env("TOKENGUARD_CONFIG_FILE", missing.toString()).error();
        assertContains(m, "cannot read config file '" + missing + "'",
                "(from environment variable TOKENGUARD_CONFIG_FILE)", "no such file",
                "expected a readable .properties, .yaml or .yml file");
    }

    @Test
    void configFileOfUnknownTypeIsAnError() throws Exception {
        Path file = write("tg.json", "{}");
        assertContains(sources().args("config.file=" + file).error(), "invalid value '" + file
                + "' for tokenguard.config.file (from agent argument)", "expected path of a .properties, .yaml or .yml file");
    }

    @Test
    void configFileCannotNameItself() throws Exception {
        Path file = write("tg.properties", "tokenguard.config.file=other.properties\n");
        assertContains(sources().prop("tokenguard.config.file", file.toString()).error(),
                "tokenguard.config.file is set in config file " + file);
    }

    @Test
    void configFileCanBeUnsetByAHigherSource() throws Exception {
        TokenGuardConfig c = sources().args("config.file=none").env("TOKENGUARD_CONFIG_FILE", dir.resolve("nope.yaml").toString())
                .load();
        assertTrue(c.enabled());
    }

    @Test
    void disabledSkipsEveryOtherCheck() throws Exception {
        TokenGuardConfig c = sources().args("enabled=false,budget.max-tokens=lots,no.such.key=1")
                .env("TOKENGUARD_NO_SUCH", "x").env("TOKENGUARD_CONFIG_FILE", dir.resolve("nope.yaml").toString()).load();
        assertFalse(c.enabled());
        assertEquals(100_000L, c.defaultBudget().maxTokens());
        assertEquals("lots", c.get("tokenguard.budget.max-tokens"));
    }

    @Test
    void disabledByTheConfigFile() throws Exception {
        Path file = write("tg.properties", "enabled=false\nbudget.window=7h\n");
        TokenGuardConfig c = sources().prop("tokenguard.config.file", file.toString()).load();
        assertFalse(c.enabled());
    }

    @Test
    void enabledTrueInAHigherSourceWinsOverTheFile() throws Exception {
        Path file = write("tg.properties", "enabled=false\n");
        assertTrue(sources().prop("tokenguard.config.file", file.toString()).prop("tokenguard.enabled", "true").load()
                .enabled());
    }

    @Test
    void getReturnsTheRawResolvedValueOrTheDefault() throws Exception {
        TokenGuardConfig c = sources().args("budget.max-tokens=250k,budget.window=none")
                .prop("tokenguard.budgets.batch.max-cost-usd", "3").load();
        assertEquals("250k", c.get("tokenguard.budget.max-tokens"));
        assertEquals(250_000L, c.defaultBudget().maxTokens());
        assertEquals("none", c.get("tokenguard.budget.window"));
        assertEquals("enforce", c.get("tokenguard.mode"));
        assertEquals("0.75,0.90,0.95", c.get("tokenguard.budget.warn-at"));
        assertNull(c.get("tokenguard.pricing.file"));
        assertEquals("3", c.get("tokenguard.budgets.batch.max-cost-usd"));
        assertNull(c.get("tokenguard.no-such-key"));
    }

    @Test
    void pricingFileMustExistAndIsReturned() throws Exception {
        Path prices = write("prices.json", "{}");
        assertEquals(prices, sources().prop("tokenguard.pricing.file", prices.toString()).load().pricingFile().orElseThrow());
    }
}
