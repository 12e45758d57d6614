package dev.tokenguard.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.tokenguard.config.ConfigFixtures.assertContains;
import static dev.tokenguard.config.ConfigFixtures.sources;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class UnknownKeysTest {
    @TempDir
    Path dir;

    @Test
    void typoInASystemPropertySuggestsTheClosestKey() {
        assertContains(sources().prop("tokenguard.budget.max-token", "5").error(),
                "unknown configuration key tokenguard.budget.max-token (from -D system property)",
                "the closest known key is tokenguard.budget.max-tokens");
        assertContains(sources().prop("tokenguard.session.enabled", "true").error(),
                "the closest known key is tokenguard.session-log.enabled");
        assertContains(sources().prop("tokenguard.sesion-log.dir", "x").error(),
                "the closest known key is tokenguard.session-log.dir");
    }

    @Test
    void keyInTheWrongGroupSuggestsTheKeyWithTheSameName() {
        assertContains(sources().args("budget.mode=warn").error(),
                "unknown configuration key tokenguard.budget.mode (from agent argument)",
                "the closest known key is tokenguard.mode");
        assertContains(sources().args("max-tokens=5").error(), "the closest known key is tokenguard.budget.max-tokens");
    }

    @Test
    void unknownOtelKeyPointsToTheStandardOtelSettings() {
        assertContains(sources().prop("tokenguard.otel.exporter.endpoint", "http://localhost:4318").error(),
                "unknown configuration key tokenguard.otel.exporter.endpoint",
                "the closest known key is tokenguard.otel.enabled", "standard OTEL_* environment variables or otel.*");
    }

    @Test
    void unknownEnvironmentVariableSuggestsTheClosest() {
        assertContains(sources().env("TOKENGUARD_SESSION_LOG_DIRECTORY", "x").error(),
                "unknown environment variable TOKENGUARD_SESSION_LOG_DIRECTORY",
                "the closest known one is TOKENGUARD_SESSION_LOG_DIR (tokenguard.session-log.dir)");
    }

    @Test
    void unknownKeyInTheConfigFileNamesTheFile() throws Exception {
        Path file = dir.resolve("tg.yaml");
        Files.writeString(file, "tokenguard:\n  warnings:\n    injct: true\n");
        assertContains(sources().prop("tokenguard.config.file", file.toString()).error(),
                "unknown configuration key tokenguard.warnings.injct (from config file " + file + ")",
                "the closest known key is tokenguard.warnings.inject");
    }

    @Test
    void unknownKeysNeverEchoTheirValues() {
        String m = sources().env("TOKENGUARD_API_KEY", "sk-live-123456").error();
        assertContains(m, "unknown environment variable TOKENGUARD_API_KEY");
        assertFalse(m.contains("sk-live-123456"), m);
        String p = sources().prop("tokenguard.openai.api-key", "sk-live-123456").error();
        assertContains(p, "unknown configuration key tokenguard.openai.api-key");
        assertFalse(p.contains("sk-live-123456"), p);
    }

    @Test
    void unknownKeyWithABlankValueIsStillAnError() {
        assertContains(sources().prop("tokenguard.budget.max-token", "").error(), "tokenguard.budget.max-token");
    }

    @Test
    void theExceptionCarriesTheKey() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.load("budget.window=2x", new java.util.Properties(), java.util.Map.of()));
        assertEquals("tokenguard.budget.window", e.key());
    }

    @Test
    void closestKeyPrefersTheSameLastSegment() {
        assertEquals("tokenguard.mode", ClosestKey.among("tokenguard.budget.mode",
                java.util.List.of("tokenguard.budget.scope", "tokenguard.mode"), '.'));
        assertEquals(3, ClosestKey.distance("kitten", "sitting"));
    }
}
