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

    /** key, bad value, and the whole line a user reads (the value, the key, the source, the reason, the expected form). */
    static Stream<Arguments> badValues() {
        return Stream.of(
                arguments("tokenguard.enabled", "yes",
                        "TokenGuard: invalid value 'yes' for tokenguard.enabled (from -D system property): "
                        + "expected true or false; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.enabled", "1",
                        "TokenGuard: invalid value '1' for tokenguard.enabled (from -D system property): "
                        + "expected true or false; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.mode", "block",
                        "TokenGuard: invalid value 'block' for tokenguard.mode (from -D system property): "
                        + "expected enforce or warn; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.mode", "enforcing",
                        "TokenGuard: invalid value 'enforcing' for tokenguard.mode (from -D system property): "
                        + "expected enforce or warn; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "lots",
                        "TokenGuard: invalid value 'lots' for tokenguard.budget.max-tokens (from -D system property): "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "0",
                        "TokenGuard: invalid value '0' for tokenguard.budget.max-tokens (from -D system property): "
                        + "must be greater than 0; "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "-5",
                        "TokenGuard: invalid value '-5' for tokenguard.budget.max-tokens (from -D system property): "
                        + "must be greater than 0; "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "1.5",
                        "TokenGuard: invalid value '1.5' for tokenguard.budget.max-tokens (from -D system property): "
                        + "not a whole number of tokens; "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "1.0005k",
                        "TokenGuard: invalid value '1.0005k' for tokenguard.budget.max-tokens (from -D system property): "
                        + "not a whole number of tokens; "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "100,000",
                        "TokenGuard: invalid value '100,000' for tokenguard.budget.max-tokens (from -D system property): "
                        + "',' separates list items; "
                        + "group digits with '_' instead, e.g. 100_000; "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "99999999999999999999",
                        "TokenGuard: invalid value '99999999999999999999' for tokenguard.budget.max-tokens (from -D system property): "
                        + "too large, at most 9223372036854775807; "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "10x",
                        "TokenGuard: invalid value '10x' for tokenguard.budget.max-tokens (from -D system property): "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-tokens", "_100",
                        "TokenGuard: invalid value '_100' for tokenguard.budget.max-tokens (from -D system property): "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-input-tokens", "many",
                        "TokenGuard: invalid value 'many' for tokenguard.budget.max-input-tokens (from -D system property): "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-output-tokens", "0k",
                        "TokenGuard: invalid value '0k' for tokenguard.budget.max-output-tokens (from -D system property): "
                        + "must be greater than 0; "
                        + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                        + "M = 1,000,000), or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-cost-usd", "free",
                        "TokenGuard: invalid value 'free' for tokenguard.budget.max-cost-usd (from -D system property): "
                        + "expected a positive amount of US dollars, e.g. 5 or 2.50, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-cost-usd", "0",
                        "TokenGuard: invalid value '0' for tokenguard.budget.max-cost-usd (from -D system property): "
                        + "must be greater than 0; "
                        + "expected a positive amount of US dollars, e.g. 5 or 2.50, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-cost-usd", "0.00",
                        "TokenGuard: invalid value '0.00' for tokenguard.budget.max-cost-usd (from -D system property): "
                        + "must be greater than 0; "
                        + "expected a positive amount of US dollars, e.g. 5 or 2.50, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-cost-usd", "-1",
                        "TokenGuard: invalid value '-1' for tokenguard.budget.max-cost-usd (from -D system property): "
                        + "must be greater than 0; "
                        + "expected a positive amount of US dollars, e.g. 5 or 2.50, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-cost-usd", "$5",
                        "TokenGuard: invalid value '$5' for tokenguard.budget.max-cost-usd (from -D system property): "
                        + "write the amount without a currency sign; "
                        + "expected a positive amount of US dollars, e.g. 5 or 2.50, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.max-cost-usd", "1e3",
                        "TokenGuard: invalid value '1e3' for tokenguard.budget.max-cost-usd (from -D system property): "
                        + "expected a positive amount of US dollars, e.g. 5 or 2.50, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.scope", "process",
                        "TokenGuard: invalid value 'process' for tokenguard.budget.scope (from -D system property): "
                        + "expected thread, global or mdc:<key>, e.g. mdc:tenant; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.scope", "mdc:",
                        "TokenGuard: invalid value 'mdc:' for tokenguard.budget.scope (from -D system property): "
                        + "an MDC scope needs the MDC key after 'mdc:'; "
                        + "expected thread, global or mdc:<key>, e.g. mdc:tenant; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.scope", "Thread",
                        "TokenGuard: invalid value 'Thread' for tokenguard.budget.scope (from -D system property): "
                        + "expected thread, global or mdc:<key>, e.g. mdc:tenant; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "0m",
                        "TokenGuard: invalid value '0m' for tokenguard.budget.window (from -D system property): "
                        + "must be at least 1m; "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "30s",
                        "TokenGuard: invalid value '30s' for tokenguard.budget.window (from -D system property): "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "50m",
                        "TokenGuard: invalid value '50m' for tokenguard.budget.window (from -D system property): "
                        + "it does not divide 24h evenly (windows restart at the same UTC times every day); "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "7h",
                        "TokenGuard: invalid value '7h' for tokenguard.budget.window (from -D system property): "
                        + "it does not divide 24h evenly (windows restart at the same UTC times every day); "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "25h",
                        "TokenGuard: invalid value '25h' for tokenguard.budget.window (from -D system property): "
                        + "it is longer than a day but not a whole number of days; "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "1w",
                        "TokenGuard: invalid value '1w' for tokenguard.budget.window (from -D system property): "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "-1h",
                        "TokenGuard: invalid value '-1h' for tokenguard.budget.window (from -D system property): "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "h",
                        "TokenGuard: invalid value 'h' for tokenguard.budget.window (from -D system property): "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.window", "99999999999999999999d",
                        "TokenGuard: invalid value '99999999999999999999d' for tokenguard.budget.window (from -D system property): "
                        + "too large; "
                        + "expected <n>m, <n>h or <n>d, at least 1m, e.g. 30m, 1h, 1d, 7d; "
                        + "shorter than a day it must divide 24h evenly, longer it must be whole days; "
                        + "or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.warn-at", "75",
                        "TokenGuard: invalid value '75' for tokenguard.budget.warn-at (from -D system property): "
                        + "75 is not in (0, 1] (write percentages as fractions, e.g. 0.75 for 75 %); "
                        + "expected fractions in (0, 1] separated by , (or ;, which agent arguments need), "
                        + "e.g. 0.75,0.90,0.95, or none for no warnings; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.warn-at", "0",
                        "TokenGuard: invalid value '0' for tokenguard.budget.warn-at (from -D system property): "
                        + "0 is not in (0, 1]; "
                        + "expected fractions in (0, 1] separated by , (or ;, which agent arguments need), "
                        + "e.g. 0.75,0.90,0.95, or none for no warnings; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.warn-at", "0.5,1.5",
                        "TokenGuard: invalid value '0.5,1.5' for tokenguard.budget.warn-at (from -D system property): "
                        + "1.5 is not in (0, 1] (write percentages as fractions, e.g. 0.75 for 75 %); "
                        + "expected fractions in (0, 1] separated by , (or ;, which agent arguments need), "
                        + "e.g. 0.75,0.90,0.95, or none for no warnings; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.warn-at", "0.5,,0.9",
                        "TokenGuard: invalid value '0.5,,0.9' for tokenguard.budget.warn-at (from -D system property): "
                        + "empty list item; "
                        + "expected fractions in (0, 1] separated by , (or ;, which agent arguments need), "
                        + "e.g. 0.75,0.90,0.95, or none for no warnings; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.budget.warn-at", "0.5,high",
                        "TokenGuard: invalid value '0.5,high' for tokenguard.budget.warn-at (from -D system property): "
                        + "'high' is not a number; "
                        + "expected fractions in (0, 1] separated by , (or ;, which agent arguments need), "
                        + "e.g. 0.75,0.90,0.95, or none for no warnings; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.warnings.inject", "on",
                        "TokenGuard: invalid value 'on' for tokenguard.warnings.inject (from -D system property): "
                        + "expected true or false; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.session-log.enabled", "enabled",
                        "TokenGuard: invalid value 'enabled' for tokenguard.session-log.enabled (from -D system property): "
                        + "expected true or false; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.session-log.dir", "bad\u0000dir",
                        "TokenGuard: invalid value 'bad\\u0000dir' for tokenguard.session-log.dir (from -D system property): "
                        + "not a valid path: Nul character not allowed; "
                        + "expected a directory path; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.session-log.capture-content", "all",
                        "TokenGuard: invalid value 'all' for tokenguard.session-log.capture-content (from -D system property): "
                        + "expected true or false; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.session-log.layout", "weekly",
                        "TokenGuard: invalid value 'weekly' for tokenguard.session-log.layout (from -D system property): "
                        + "'weekly' is not a session-log layout; expected session or daily; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.session-log.max-age", "4w",
                        "TokenGuard: invalid value '4w' for tokenguard.session-log.max-age (from -D system property): "
                        + "expected <n>d, <n>h or <n>m, e.g. 30d, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.session-log.max-total-size", "2PB",
                        "TokenGuard: invalid value '2PB' for tokenguard.session-log.max-total-size (from -D system property): "
                        + "expected a size with KB, MB, GB or TB (powers of 1,000) or KiB, MiB, GiB, TiB (powers of 1,024),"
                        + " e.g. 500MB, 1GB, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.otel.enabled", "no",
                        "TokenGuard: invalid value 'no' for tokenguard.otel.enabled (from -D system property): "
                        + "expected true or false; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.http.endpoints", "ftp://llm.internal",
                        "TokenGuard: invalid value 'ftp://llm.internal' for tokenguard.http.endpoints (from -D system property): "
                        + "'ftp://llm.internal' is not an absolute http or https URL; "
                        + "expected absolute http or https base URLs separated by , (or ;, "
                        + "which agent arguments need), each optionally =provider, "
                        + "e.g. http://llm.internal:8000=openai, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.http.endpoints", "llm.internal:8000",
                        "TokenGuard: invalid value 'llm.internal:8000' for tokenguard.http.endpoints (from -D system property): "
                        + "'llm.internal:8000' is not an absolute http or https URL; "
                        + "expected absolute http or https base URLs separated by , (or ;, "
                        + "which agent arguments need), each optionally =provider, "
                        + "e.g. http://llm.internal:8000=openai, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.http.endpoints", "/v1/chat",
                        "TokenGuard: invalid value '/v1/chat' for tokenguard.http.endpoints (from -D system property): "
                        + "'/v1/chat' is not an absolute http or https URL; "
                        + "expected absolute http or https base URLs separated by , (or ;, "
                        + "which agent arguments need), each optionally =provider, "
                        + "e.g. http://llm.internal:8000=openai, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.http.endpoints", "http://x.example=Open AI",
                        "TokenGuard: invalid value 'http://x.example=Open AI' for tokenguard.http.endpoints (from -D system property): "
                        + "'open ai' is not a provider name such as openai; "
                        + "expected absolute http or https base URLs separated by , (or ;, "
                        + "which agent arguments need), each optionally =provider, "
                        + "e.g. http://llm.internal:8000=openai, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.http.endpoints", "http://x.example=",
                        "TokenGuard: invalid value 'http://x.example=' for tokenguard.http.endpoints (from -D system property): "
                        + "'' is not a provider name such as openai; "
                        + "expected absolute http or https base URLs separated by , (or ;, "
                        + "which agent arguments need), each optionally =provider, "
                        + "e.g. http://llm.internal:8000=openai, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.http.endpoints", "http://a b",
                        "TokenGuard: invalid value 'http://a b' for tokenguard.http.endpoints (from -D system property): "
                        + "'http://a b' is not a URL; "
                        + "expected absolute http or https base URLs separated by , (or ;, "
                        + "which agent arguments need), each optionally =provider, "
                        + "e.g. http://llm.internal:8000=openai, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.http.endpoints", "http://x.example,",
                        "TokenGuard: invalid value 'http://x.example,' for tokenguard.http.endpoints (from -D system property): "
                        + "empty list item; "
                        + "expected absolute http or https base URLs separated by , (or ;, "
                        + "which agent arguments need), each optionally =provider, "
                        + "e.g. http://llm.internal:8000=openai, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.call-site.enabled", "yes",
                        "TokenGuard: invalid value 'yes' for tokenguard.call-site.enabled (from -D system property): "
                        + "expected true or false; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.otel.budget-scopes", "0",
                        "TokenGuard: invalid value '0' for tokenguard.otel.budget-scopes (from -D system property): "
                        + "0 is out of range; "
                        + "expected a whole number from 1 to 1000; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.otel.budget-scopes", "ten",
                        "TokenGuard: invalid value 'ten' for tokenguard.otel.budget-scopes (from -D system property): "
                        + "expected a whole number from 1 to 1000; "
                        + "TokenGuard is disabled, the application runs uninstrumented"),
                arguments("tokenguard.config.file", "tokenguard.json",
                        "TokenGuard: invalid value 'tokenguard.json' for tokenguard.config.file (from -D system property): "
                        + "unknown file type; "
                        + "expected path of a .properties, .yaml or .yml file, or none; "
                        + "TokenGuard is disabled, the application runs uninstrumented"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badValues")
    void badValueIsOneLineWithKeyValueSourceAndExpectedForm(String key, String value, String message) {
        String m = sources().prop(key, value).error();
        assertEquals(message, m);
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
        assertEquals("TokenGuard: invalid value 'block' for tokenguard.mode (from agent argument): expected enforce or"
                + " warn; TokenGuard is disabled, the application runs uninstrumented", sources().args("mode=block").error());
        assertEquals("TokenGuard: invalid value 'block' for tokenguard.mode (from environment variable TOKENGUARD_MODE):"
                + " expected enforce or warn; TokenGuard is disabled, the application runs uninstrumented",
                sources().env("TOKENGUARD_MODE", "block").error());
        Path file = dir.resolve("tg.yaml");
        Files.writeString(file, "tokenguard:\n  mode: block\n");
        assertEquals("TokenGuard: invalid value 'block' for tokenguard.mode (from config file " + file + "):"
                + " expected enforce or warn; TokenGuard is disabled, the application runs uninstrumented",
                sources().prop("tokenguard.config.file", file.toString()).error());
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
        assertEquals("TokenGuard: invalid value 'https://***@llm.internal/v1' for tokenguard.http.endpoints"
                + " (from -D system property): a base URL must not carry user info (credentials);"
                + " expected absolute http or https base URLs separated by , (or ;, which agent arguments need),"
                + " each optionally =provider, e.g. http://llm.internal:8000=openai, or none;"
                + " TokenGuard is disabled, the application runs uninstrumented", m);
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
        assertEquals("(masked)", Redaction.shown("x.api-key", "sk-123"));
        assertEquals("a\\u000ab", Redaction.shown("tokenguard.mode", "a\nb"));
    }

    @Test
    void pricingFileThatDoesNotExistOrIsADirectory() {
        Path missing = dir.resolve("prices.json");
        assertEquals("TokenGuard: invalid value '" + missing + "' for tokenguard.pricing.file (from -D system property):"
                        + " no such file; expected path of a readable JSON file, or none;"
                        + " TokenGuard is disabled, the application runs uninstrumented",
                sources().prop("tokenguard.pricing.file", missing.toString()).error());
        assertEquals("TokenGuard: invalid value '" + dir + "' for tokenguard.pricing.file (from -D system property):"
                        + " not a regular file; expected path of a readable JSON file, or none;"
                        + " TokenGuard is disabled, the application runs uninstrumented",
                sources().prop("tokenguard.pricing.file", dir.toString()).error());
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
    void sessionLogLayoutAndRetentionParse() throws Exception {
        TokenGuardConfig defaults = sources().load();
        assertEquals(dev.tokenguard.sessionlog.LogLayout.SESSION, defaults.value(ConfigOptions.SESSION_LOG_LAYOUT));
        assertEquals(java.time.Duration.ofDays(30), defaults.value(ConfigOptions.SESSION_LOG_MAX_AGE));
        assertEquals(1_000_000_000L, defaults.value(ConfigOptions.SESSION_LOG_MAX_TOTAL_SIZE));
        TokenGuardConfig set = sources().prop("tokenguard.session-log.layout", "daily")
                .prop("tokenguard.session-log.max-age", "12h").prop("tokenguard.session-log.max-total-size", "2GiB")
                .load();
        assertEquals(dev.tokenguard.sessionlog.LogLayout.DAILY, set.value(ConfigOptions.SESSION_LOG_LAYOUT));
        assertEquals(java.time.Duration.ofHours(12), set.value(ConfigOptions.SESSION_LOG_MAX_AGE));
        assertEquals(2L * 1024 * 1024 * 1024, set.value(ConfigOptions.SESSION_LOG_MAX_TOTAL_SIZE));
        assertEquals(500_000L, sources().prop("tokenguard.session-log.max-total-size", "500kb").load()
                .value(ConfigOptions.SESSION_LOG_MAX_TOTAL_SIZE));
        TokenGuardConfig off = sources().prop("tokenguard.session-log.max-age", "none")
                .prop("tokenguard.session-log.max-total-size", "none").load();
        assertNull(off.value(ConfigOptions.SESSION_LOG_MAX_AGE));
        assertNull(off.value(ConfigOptions.SESSION_LOG_MAX_TOTAL_SIZE));
    }

    @Test
    void everyDefaultParses() {
        List<ConfigOption<?>> withDefault = ConfigOptions.ALL.stream()
                .filter(o -> !o.isTemplate() && o.defaultText() != null).toList();
        // the keys with a default in the product's configuration table
        assertEquals(List.of("tokenguard.enabled", "tokenguard.mode", "tokenguard.budget.max-tokens",
                "tokenguard.budget.scope", "tokenguard.budget.warn-at", "tokenguard.warnings.inject",
                "tokenguard.session-log.enabled", "tokenguard.session-log.dir", "tokenguard.session-log.capture-content",
                "tokenguard.otel.enabled", "tokenguard.instrumentation.openai-java.enabled",
                "tokenguard.instrumentation.anthropic-java.enabled", "tokenguard.instrumentation.okhttp.enabled",
                "tokenguard.instrumentation.jdk-http-client.enabled",
                "tokenguard.instrumentation.spring-ai-openai.enabled",
                "tokenguard.instrumentation.spring-ai-anthropic.enabled",
                "tokenguard.instrumentation.langchain4j.enabled",
                "tokenguard.instrumentation.apache-httpclient5.enabled",
                "tokenguard.instrumentation.http-url-connection.enabled",
                "tokenguard.instrumentation.aws-bedrock.enabled",
                "tokenguard.instrumentation.azure-ai-openai.enabled",
                "tokenguard.instrumentation.google-genai.enabled",
                "tokenguard.instrumentation.ollama4j.enabled",
                "tokenguard.call-site.enabled", "tokenguard.otel.budget-scopes",
                "tokenguard.session-log.layout", "tokenguard.session-log.max-age",
                "tokenguard.session-log.max-total-size",
                "tokenguard.budget.reserve-output", "tokenguard.budget.reserve-wait", "tokenguard.budget.idle-release",
                "tokenguard.store", "tokenguard.store.timeout", "tokenguard.store.on-failure"),
                withDefault.stream().map(ConfigOption::key).toList());
        for (ConfigOption<?> o : withDefault) {
            assertNotNull(o.defaultValue(), o.key());
        }
    }
}
