package dev.tokenguard.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Builds the three in-memory sources a test loads from. */
final class ConfigFixtures {
    String agentArgs;
    final Properties props = new Properties();
    final Map<String, String> env = new LinkedHashMap<>();

    static ConfigFixtures sources() {
        return new ConfigFixtures();
    }

    ConfigFixtures args(String args) {
        this.agentArgs = args;
        return this;
    }

    ConfigFixtures prop(String key, String value) {
        props.setProperty(key, value);
        return this;
    }

    ConfigFixtures env(String name, String value) {
        env.put(name, value);
        return this;
    }

    TokenGuardConfig load() throws ConfigException {
        return ConfigLoader.load(agentArgs, props, env);
    }

    /** Loads, expecting a ConfigException; checks the message is one line in the common shape and returns it. */
    String error() {
        ConfigException e = assertThrows(ConfigException.class, this::load);
        String m = e.getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        assertTrue(m.startsWith("TokenGuard: "), m);
        assertTrue(m.endsWith("; TokenGuard is disabled, the application runs uninstrumented"), m);
        return m;
    }

    static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), () -> "expected <" + p + "> in: " + message);
        }
    }

    static void assertArrayEqualsExactly(double[] expected, double[] actual) {
        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(actual));
    }
}
