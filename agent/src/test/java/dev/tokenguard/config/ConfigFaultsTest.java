package dev.tokenguard.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.tokenguard.config.ConfigFixtures.assertContains;
import static dev.tokenguard.config.ConfigFixtures.sources;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Configuration faults over every key, generated from {@link ConfigOptions#ALL}: a bad value gets one line naming
 * the key, the value and the expected form; a value that looks like a credential is never echoed, whichever key it
 * was given to and whichever source it came from; malformed files are located by line.
 */
class ConfigFaultsTest {

    static final String CONSEQUENCE = "; TokenGuard is disabled, the application runs uninstrumented";

    /** A value no option accepts: a NUL character is not even a valid path (inside: the ends are trimmed). */
    static final String BAD = "bad\u0000value";

    /** Credentials as users paste them by mistake, each with the part that must never be printed. */
    static final Map<String, String> CREDENTIALS = Map.of(
            "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34",
            "sk-ant-api03-Zx98Yw76Vu54Ts32Rq10Po98", "Zx98Yw76Vu54Ts32Rq10Po98",
            "AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE",
            "ghp_0123456789abcdefABCDEF0123456789ab", "0123456789abcdefABCDEF0123456789ab",
            "Q2hlY2tJdE91dFRoaXNJc0FTZWNyZXRLZXkxMjM0NQ", "Q2hlY2tJdE91dFRoaXNJc0FTZWNyZXRLZXkxMjM0NQ",
            "https://user:pa55word@llm.example.com/v1?api_key=s3cr3t-value", "pa55word",
            "http://llm.example.com/v1?api_key=s3cr3t-value", "s3cr3t-value");

    @TempDir
    Path dir;

    static List<ConfigOption<?>> keys() {
        return ConfigOptions.ALL.stream().filter(o -> !o.isTemplate()).toList();
    }

    @Test
    void everyKeyWithABadValueGetsOneLineNamingTheKeyTheValueAndTheExpectedForm() {
        List<ConfigOption<?>> options = keys();
        List<String> messages = new ArrayList<>();
        for (ConfigOption<?> o : options) {
            messages.add(sources().prop(o.key(), BAD).error());
        }
        assertEquals(options.size(), messages.size());
        assertTrue(options.size() >= 30, "every option of the table: " + options.size());
        for (int i = 0; i < options.size(); i++) {
            ConfigOption<?> o = options.get(i);
            String m = messages.get(i);
            assertTrue(m.startsWith("TokenGuard: invalid value 'bad\\u0000value' for " + o.key()
                    + " (from -D system property): "), m);
            assertTrue(m.endsWith("expected " + o.expectedForm() + CONSEQUENCE), m);
            assertFalse(m.contains("`"), "no Markdown in messages: " + m);
        }
    }

    @Test
    void everyNamedBudgetKeyWithABadValueGetsTheSameLine() {
        List<String> subs = ConfigOptions.namedBudgetKeys();
        assertTrue(subs.size() >= 8, subs::toString);
        for (String sub : subs) {
            String key = "tokenguard.budgets.batch." + sub;
            String m = sources().prop(key, BAD).error();
            assertTrue(m.startsWith("TokenGuard: invalid value 'bad\\u0000value' for " + key + " (from -D system property): "),
                    m);
            assertTrue(m.endsWith("expected " + ConfigOptions.NAMED_BUDGET_KEYS.get(sub).expectedForm() + CONSEQUENCE),
                    m);
        }
    }

    @Test
    void aCredentialGivenToAnyKeyIsNeverEchoedAndTheLineSaysItIsMasked() {
        List<ConfigOption<?>> options = keys();
        Set<String> accepted = new TreeSet<>();
        int errors = 0;
        int acceptedPairs = 0;
        for (Map.Entry<String, String> credential : CREDENTIALS.entrySet()) {
            for (ConfigOption<?> o : options) {
                ConfigFixtures f = sources().prop(o.key(), credential.getKey());
                try {
                    f.load();
                    accepted.add(o.key());
                    acceptedPairs++;
                    continue;
                } catch (ConfigException expected) {
                    errors++;
                }
                String m = f.error();
                assertFalse(m.contains(credential.getValue()), m);
                assertContains(m, o.key(), "(from -D system property)");
                assertTrue(m.contains("masked") || m.contains("***"), m);
            }
        }
        // a directory may have any name, and a store namespace is a name of letters, digits and dashes (an
        // `sk-…` key is one: it names Redis keys and is not secret there); every other key refuses each of these
        assertEquals(Set.of(ConfigOptions.SESSION_LOG_DIR.key(), ConfigOptions.STORE_NAMESPACE.key()), accepted);
        assertEquals(CREDENTIALS.size() * options.size(), errors + acceptedPairs);
        assertTrue(errors >= CREDENTIALS.size() * (options.size() - 2), "errors: " + errors);
    }

    @Test
    void aKeyLikeValueSaysInWordsThatItIsMaskedAndKeepsTheExpectedForm() {
        assertEquals("TokenGuard: invalid value for tokenguard.budget.max-tokens (from agent argument), not shown: the"
                        + " value is masked because it looks like a secret; expected a positive whole number of tokens,"
                        + " e.g. 100000, 100_000, 250k or 2M (k = 1,000, M = 1,000,000), or none" + CONSEQUENCE,
                sources().args("budget.max-tokens=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34").error());
    }

    @Test
    void aUrlWithCredentialsGivenToAKeyThatIsNoUrlIsMaskedInWords() {
        String m = sources().prop("tokenguard.mode", "https://user:pa55word@llm.example.com/v1").error();
        assertEquals("TokenGuard: invalid value for tokenguard.mode (from -D system property), not shown: the value is"
                + " masked because it looks like a secret; expected enforce or warn" + CONSEQUENCE, m);
        String endpoint = sources().prop("tokenguard.http.endpoints", "https://user:pa55word@llm.example.com/v1").error();
        assertFalse(endpoint.contains("pa55word"), endpoint);
        assertContains(endpoint, "invalid value 'https://***@llm.example.com/v1' for tokenguard.http.endpoints");
    }

    @Test
    void aCredentialInAListItemIsNotQuotedByTheReason() {
        String m = sources().prop("tokenguard.budget.warn-at", "0.5,sk-ant-api03-Zx98Yw76Vu54Ts32Rq10Po98").error();
        assertFalse(m.contains("Zx98Yw76Vu54Ts32Rq10Po98"), m);
        assertContains(m, "tokenguard.budget.warn-at", "masked");
        String u = sources().prop("tokenguard.budget.warn-at", "0.5,https://u:pa55word@x.example/?k=s3cr3t").error();
        assertFalse(u.contains("pa55word") || u.contains("s3cr3t"), u);
        assertContains(u, "tokenguard.budget.warn-at", "masked");
    }

    @Test
    void aCredentialFromEverySourceAndInEveryShapeOfMistakeIsMasked() throws Exception {
        String key = "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34";
        String secret = "Ab12Cd34Ef56Gh78Ij90Kl12Mn34";
        Path yaml = dir.resolve("tg.yaml");
        Files.writeString(yaml, "tokenguard:\n  mode: " + key + "\n");
        List<String> messages = List.of(
                sources().env("TOKENGUARD_MODE", key).error(),
                sources().prop("tokenguard.config.file", yaml.toString()).error(),
                sources().args(key).error(),
                sources().args("mode=" + key + ",mode=warn").error(),
                sources().prop("tokenguard.budgets.batch.max-tokens", key).error(),
                sources().prop("tokenguard.budgets.batch.scope", key).error());
        assertEquals(6, messages.size());
        for (String m : messages) {
            assertFalse(m.contains(secret), m);
            assertTrue(m.contains("masked"), m);
        }
        assertContains(messages.get(0), "(from environment variable TOKENGUARD_MODE)");
        assertContains(messages.get(1), "(from config file " + yaml + ")");
        assertContains(messages.get(2), "invalid agent argument '(masked)'");
        assertContains(messages.get(3), "tokenguard.mode is set twice in the agent arguments ('(masked)' and 'warn')");
    }

    @Test
    void aMalformedYamlFileIsOneLineWithItsLineAndNoCredentialFromIt() throws Exception {
        Path yaml = dir.resolve("tg.yaml");
        Files.writeString(yaml, "tokenguard:\n  mode: warn\n  budget: {max-tokens: 5000\n"
                + "openai-key: \"sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34\n");
        String m = sources().prop("tokenguard.config.file", yaml.toString()).error();
        assertTrue(m.startsWith("TokenGuard: cannot parse config file " + yaml + " at line "), m);
        assertFalse(m.contains("Ab12Cd34Ef56Gh78Ij90Kl12Mn34"), m);
        assertContains(m, "expected YAML that maps keys to values");
    }

    @Test
    void aMalformedPropertiesFileIsOneLineNamingTheFile() throws Exception {
        Path props = dir.resolve("tg.properties");
        Files.writeString(props, "mode=warn\nbudget.max-tokens=\\u12\n");
        String m = sources().prop("tokenguard.config.file", props.toString()).error();
        assertContains(m, "cannot parse config file " + props, "expected key=value lines of a .properties file");
    }

    @Test
    void scrubMasksCredentialsButKeepsPathsWordsAndNumbers() {
        assertEquals("key *** and *** at https://***@h.example/v1?***",
                Redaction.scrub("key sk-ant-api03-Zx98Yw76Vu54Ts32Rq10Po98 and AKIAIOSFODNN7EXAMPLE at"
                        + " https://u:p@h.example/v1?key=1"));
        String plain = "cannot read /var/lib/service-2026/tokenguard-sessions-for-the-billing-service/x.jsonl:"
                + " 100000 tokens, sk-1 and risk-assessment-pipeline-of-the-payments-team";
        assertEquals(plain, Redaction.scrub(plain));
    }

    @Test
    void aTypoInAnyKeyIsOneLineSuggestingThatKeyAndNeverEchoingTheValue() {
        List<ConfigOption<?>> options = keys();
        List<String> messages = new ArrayList<>();
        for (ConfigOption<?> o : options) {
            String typo = o.key().substring(0, o.key().length() - 1); // the last letter forgotten
            messages.add(sources().prop(typo, "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34").error());
        }
        assertEquals(options.size(), messages.size());
        for (int i = 0; i < options.size(); i++) {
            String key = options.get(i).key();
            String m = messages.get(i);
            assertTrue(m.startsWith("TokenGuard: unknown configuration key " + key.substring(0, key.length() - 1)
                    + " (from -D system property): the closest known key is " + key), m);
            assertFalse(m.contains("Ab12Cd34Ef56Gh78Ij90Kl12Mn34"), m);
        }
    }
}
