package dev.tokenguard.config;

import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static dev.tokenguard.config.ConfigFixtures.assertArrayEqualsExactly;
import static dev.tokenguard.config.ConfigFixtures.assertContains;
import static dev.tokenguard.config.ConfigFixtures.sources;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class ConfigValuesTest {
    @TempDir
    Path dir;

    /** key, bad value, a specific reason the message must give (or "" when the expected form says it all). */
    static Stream<Arguments> badValues() {
        return Stream.of(
                arguments("tokenguard.enabled", "yes", ""),
                arguments("tokenguard.enabled", "1", ""),
                arguments("tokenguard.mode", "block", ""),
                arguments("tokenguard.mode", "enforcing", ""),
                arguments("tokenguard.budget.max-tokens", "lots", ""),
                arguments("tokenguard.budget.max-tokens", "0", "must be greater than 0"),
                arguments("tokenguard.budget.max-tokens", "-5", "must be greater than 0"),
                arguments("tokenguard.budget.max-tokens", "1.5", "not a whole number of tokens"),
                arguments("tokenguard.budget.max-tokens", "1.0005k", "not a whole number of tokens"),
                arguments("tokenguard.budget.max-tokens", "100,000", "group digits with '_' instead"),
                arguments("tokenguard.budget.max-tokens", "99999999999999999999", "too large"),
                arguments("tokenguard.budget.max-tokens", "10x", ""),
                arguments("tokenguard.budget.max-tokens", "_100", ""),
                arguments("tokenguard.budget.max-input-tokens", "many", ""),
                arguments("tokenguard.budget.max-output-tokens", "0k", "must be greater than 0"),
                arguments("tokenguard.budget.max-cost-usd", "free", ""),
                arguments("tokenguard.budget.max-cost-usd", "0", "must be greater than 0"),
                arguments("tokenguard.budget.max-cost-usd", "0.00", "must be greater than 0"),
                arguments("tokenguard.budget.max-cost-usd", "-1", "must be greater than 0"),
                arguments("tokenguard.budget.max-cost-usd", "$5", "without a currency sign"),
                arguments("tokenguard.budget.max-cost-usd", "1e3", ""),
                arguments("tokenguard.budget.scope", "process", ""),
                arguments("tokenguard.budget.scope", "mdc:", "needs the MDC key"),
                arguments("tokenguard.budget.scope", "Thread", ""),
                arguments("tokenguard.budget.window", "0m", "must be at least 1m"),
                arguments("tokenguard.budget.window", "30s", ""),
                arguments("tokenguard.budget.window", "50m", "does not divide 24h evenly"),
                arguments("tokenguard.budget.window", "7h", "does not divide 24h evenly"),
                arguments("tokenguard.budget.window", "25h", "not a whole number of days"),
                arguments("tokenguard.budget.window", "1w", ""),
                arguments("tokenguard.budget.window", "-1h", ""),
                arguments("tokenguard.budget.window", "h", ""),
                arguments("tokenguard.budget.window", "99999999999999999999d", "too large"),
                arguments("tokenguard.budget.warn-at", "75", "write percentages as fractions"),
                arguments("tokenguard.budget.warn-at", "0", "0 is not in (0, 1]"),
                arguments("tokenguard.budget.warn-at", "0.5,1.5", "1.5 is not in (0, 1]"),
                arguments("tokenguard.budget.warn-at", "0.5,,0.9", "empty list item"),
                arguments("tokenguard.budget.warn-at", "0.5,high", "'high' is not a number"),
                arguments("tokenguard.warnings.inject", "on", ""),
                arguments("tokenguard.session-log.enabled", "enabled", ""),
                arguments("tokenguard.session-log.dir", "bad\u0000dir", "not a valid path"),
                arguments("tokenguard.session-log.capture-content", "all", ""),
                arguments("tokenguard.otel.enabled", "no", ""),
                arguments("tokenguard.http.endpoints", "ftp://llm.internal", "is not an absolute http or https URL"),
                arguments("tokenguard.http.endpoints", "llm.internal:8000", "is not an absolute http or https URL"),
                arguments("tokenguard.http.endpoints", "/v1/chat", "is not an absolute http or https URL"),
                arguments("tokenguard.http.endpoints", "http://x.example=Open AI", "is not a provider name"),
                arguments("tokenguard.http.endpoints", "http://x.example=", "is not a provider name"),
                arguments("tokenguard.http.endpoints", "http://a b", "is not a URL"),
                arguments("tokenguard.http.endpoints", "http://x.example,", "empty list item"),
                arguments("tokenguard.config.file", "tokenguard.json", "unknown file type"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badValues")
    void badValueIsOneLineWithKeyValueSourceAndExpectedForm(String key, String value, String reason) {
        String m = sources().prop(key, value).error();
        String shown = value.replace("\u0000", "\\u0000");
        assertContains(m, "invalid value '" + shown + "' for " + key + " (from -D system property): ", reason,
                "expected " + ConfigOptions.find(key).orElseThrow().expectedForm());
        assertFalse(m.contains("`"), "no Markdown in messages: " + m);
    }

    @Test
    void theBriefsExampleMessageExactly() {
        assertEquals("TokenGuard: invalid value 'lots' for tokenguard.budget.max-tokens (from -D system property):"
                        + " expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M"
                        + " (k = 1,000, M = 1,000,000), or none; TokenGuard is disabled, the application runs uninstrumented",
                sources().prop("tokenguard.budget.max-tokens", "lots").error());
    }

    @Test
    void badValueNamesEachKindOfSource() throws Exception {
        assertContains(sources().args("mode=block").error(), "'block' for tokenguard.mode (from agent argument)");
        assertContains(sources().env("TOKENGUARD_MODE", "block").error(),
                "'block' for tokenguard.mode (from environment variable TOKENGUARD_MODE)");
        Path file = dir.resolve("tg.yaml");
        Files.writeString(file, "tokenguard:\n  mode: block\n");
        assertContains(sources().prop("tokenguard.config.file", file.toString()).error(),
                "'block' for tokenguard.mode (from config file " + file + ")");
    }

    @Test
    void onlyTheWinningValueIsParsed() throws Exception {
        TokenGuardConfig c = sources().args("mode=warn").prop("tokenguard.mode", "block").load();
        assertEquals(EnforcementMode.WARN, c.mode());
    }

    @Test
    void credentialsInAnEndpointUrlAreNeverEchoed() {
        String m = sources().prop("tokenguard.http.endpoints", "https://bob:s3cr3t@llm.internal/v1").error();
        assertFalse(m.contains("s3cr3t"), m);
        assertFalse(m.contains("bob"), m);
        assertContains(m, "https://***@llm.internal/v1", "must not carry user info");
    }

    private static final String ENDPOINTS_FORM = "expected absolute http or https base URLs separated by , (or ;, which agent arguments need),"
            + " each optionally =provider, e.g. http://llm.internal:8000=openai, or none;"
            + " TokenGuard is disabled, the application runs uninstrumented";

    @Test
    void anEqualsSignInAnEndpointQueryIsNotTheProviderSeparatorAndTheQueryIsNeverEchoed() {
        assertEquals("TokenGuard: invalid value 'http://gw/v1?***' for tokenguard.http.endpoints"
                        + " (from -D system property): 'http://gw/v1?***' has a query; a base URL is matched by scheme,"
                        + " host, port and path prefix only: give it without what follows '?', e.g. http://gw/v1; "
                        + ENDPOINTS_FORM,
                sources().prop("tokenguard.http.endpoints", "http://gw/v1?key=x").error());
    }

    @Test
    void anEndpointQueryBeforeAProviderIsRefusedWithTheQueryAndProviderHidden() {
        String m = sources().prop("tokenguard.http.endpoints",
                "http://llm.internal:8000=openai;https://gw.example.com/v1?api-key=s3cr3t=anthropic").error();
        assertEquals("TokenGuard: invalid value 'http://llm.internal:8000=openai;https://gw.example.com/v1?***'"
                + " for tokenguard.http.endpoints (from -D system property): 'https://gw.example.com/v1?***' has a"
                + " query; a base URL is matched by scheme, host, port and path prefix only: give it without what"
                + " follows '?', e.g. https://gw.example.com/v1; " + ENDPOINTS_FORM, m);
        assertFalse(m.contains("s3cr3t"), m);
    }

    @Test
    void credentialsAndQueryTogetherAreBothHidden() {
        String m = sources().args("http.endpoints=https://bob:pw@gw.example.com/v1?token=abc").error();
        assertEquals("TokenGuard: invalid value 'https://***@gw.example.com/v1?***' for tokenguard.http.endpoints"
                + " (from agent argument): 'https://***@gw.example.com/v1?***' has a query; a base URL is matched by"
                + " scheme, host, port and path prefix only: give it without what follows '?', e.g."
                + " https://***@gw.example.com/v1; " + ENDPOINTS_FORM, m);
    }

    @Test
    void anEndpointFragmentIsRefusedAndHidden() {
        assertEquals("TokenGuard: invalid value 'http://gw/v1#***' for tokenguard.http.endpoints"
                        + " (from -D system property): 'http://gw/v1#***' has a fragment; a base URL is matched by"
                        + " scheme, host, port and path prefix only: give it without what follows '#', e.g."
                        + " http://gw/v1; " + ENDPOINTS_FORM,
                sources().prop("tokenguard.http.endpoints", "http://gw/v1#k=1").error());
    }

    @Test
    void anEndpointPrintsWithoutSecretsEvenWhenBuiltByHand() throws Exception {
        TokenGuardConfig c = sources().prop("tokenguard.http.endpoints", "https://gw.example.com:8443/llm/v1=groq")
                .load();
        assertEquals("https://gw.example.com:8443/llm/v1=groq", c.httpEndpoints().get(0).toString());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new HttpEndpoint(URI.create("https://u:p@gw.example.com/v1?key=s3cr3t"), null));
        assertEquals("a base URL has no user info, query or fragment", e.getMessage());
    }

    @Test
    void secretLookingKeysAreRecognised() {
        assertTrue(Redaction.looksSecret("tokenguard.redis.password"));
        assertTrue(Redaction.looksSecret("x.api-key"));
        assertTrue(Redaction.looksSecret("x.apikey"));
        assertTrue(Redaction.looksSecret("x.auth-token"));
        assertTrue(Redaction.looksSecret("x.token"));
        assertFalse(Redaction.looksSecret("tokenguard.budget.max-tokens"));
        assertFalse(Redaction.looksSecret("tokenguard.budget.max-output-tokens"));
        assertFalse(Redaction.looksSecret("tokenguard.mode"));
        assertEquals("(hidden)", Redaction.shown("x.api-key", "sk-123"));
        assertEquals("a\\u000ab", Redaction.shown("tokenguard.mode", "a\nb"));
    }

    @Test
    void pricingFileThatDoesNotExistOrIsADirectory() {
        Path missing = dir.resolve("prices.json");
        assertContains(sources().prop("tokenguard.pricing.file", missing.toString()).error(),
                "invalid value '" + missing + "' for tokenguard.pricing.file (from -D system property): no such file;"
                        + " expected path of a readable JSON file, or none");
        assertContains(sources().prop("tokenguard.pricing.file", dir.toString()).error(), "not a regular file");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"1, 1", "100000, 100000", "100_000, 100000", "250k, 250000", "250K, 250000", "2M, 2000000",
            "2m, 2000000", "1.5k, 1500", "1.25M, 1250000", "9223372036854775807, 9223372036854775807"})
    void tokenCounts(String text, long expected) throws Exception {
        assertEquals(expected, sources().prop("tokenguard.budget.max-tokens", text).load().defaultBudget().maxTokens());
    }

    @Test
    void noneUnsetsOptionalValuesIncludingDefaults() throws Exception {
        TokenGuardConfig c = sources().args("budget.max-tokens=none,budget.warn-at=NONE,http.endpoints=none")
                .prop("tokenguard.budget.max-cost-usd", "none").prop("tokenguard.pricing.file", "none").load();
        assertNull(c.defaultBudget().maxTokens());
        assertNull(c.defaultBudget().maxCostUsd());
        assertArrayEqualsExactly(new double[0], c.defaultBudget().warnAt());
        assertTrue(c.pricingFile().isEmpty());
        assertEquals(List.of(), c.httpEndpoints());
    }

    @ParameterizedTest(name = "{0} -> {1} minutes")
    @CsvSource({"1m, 1", "5m, 5", "30m, 30", "60m, 60", "1h, 60", "8h, 480", "12h, 720", "24h, 1440", "1d, 1440",
            "48h, 2880", "7d, 10080", "1440m, 1440", "90m, 90"})
    void windows(String text, long minutes) throws Exception {
        assertEquals(Duration.ofMinutes(minutes),
                sources().prop("tokenguard.budget.window", text).load().defaultBudget().window());
    }

    @Test
    void warnAtIsDeduplicatedAndSorted() throws Exception {
        assertArrayEqualsExactly(new double[]{0.5, 0.9, 1.0},
                sources().prop("tokenguard.budget.warn-at", "0.9, 1, 0.5;0.90").load().defaultBudget().warnAt());
    }

    @Test
    void costIsADecimal() throws Exception {
        assertEquals(2.5, sources().prop("tokenguard.budget.max-cost-usd", "2.50").load().defaultBudget().maxCostUsd());
        assertEquals(0.05, sources().prop("tokenguard.budget.max-cost-usd", ".05").load().defaultBudget().maxCostUsd());
    }

    @Test
    void booleansAndModesIgnoreCase() throws Exception {
        TokenGuardConfig c = sources().prop("tokenguard.warnings.inject", "TRUE").prop("tokenguard.otel.enabled", "False")
                .prop("tokenguard.mode", "Warn").load();
        assertTrue(c.injectWarnings());
        assertFalse(c.otelEnabled());
        assertEquals(EnforcementMode.WARN, c.mode());
    }

    @Test
    void scopes() throws Exception {
        assertEquals(ScopeSpec.GLOBAL, sources().prop("tokenguard.budget.scope", "global").load().defaultBudget().scope());
        assertEquals(ScopeSpec.mdc("tenant.id"),
                sources().prop("tokenguard.budget.scope", "mdc:tenant.id").load().defaultBudget().scope());
    }

    @Test
    void endpointsKeepOrderAndOptionalProvider() throws Exception {
        TokenGuardConfig c = sources().prop("tokenguard.http.endpoints",
                "http://llm.internal:8000=openai, HTTPS://gw.example.com/anthropic/=Anthropic,http://vllm:8080").load();
        assertEquals(List.of(new HttpEndpoint(URI.create("http://llm.internal:8000"), "openai"),
                new HttpEndpoint(URI.create("HTTPS://gw.example.com/anthropic/"), "anthropic"),
                new HttpEndpoint(URI.create("http://vllm:8080"), null)), c.httpEndpoints());
        assertEquals("http://llm.internal:8000=openai", c.httpEndpoints().get(0).toString());
    }

    @Test
    void sessionLogDirStaysAsGiven() throws Exception {
        assertEquals(Path.of("logs", "tg"), sources().prop("tokenguard.session-log.dir", "logs/tg").load().sessionLogDir());
    }

    @Test
    void everyDefaultParses() {
        for (ConfigOption<?> o : ConfigOptions.ALL) {
            if (!o.isTemplate() && o.defaultText() != null) {
                assertNotNull(o.defaultValue(), o.key());
            }
        }
    }
}
