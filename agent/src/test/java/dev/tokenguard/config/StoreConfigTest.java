package dev.tokenguard.config;

import dev.tokenguard.sample.redis.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static dev.tokenguard.config.ConfigFixtures.sources;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreConfigTest {
    @Test
    void memoryIsTheDefault() throws Exception {
        TokenGuardConfig c = sources().load();
        assertTrue(c.value(ConfigOptions.STORE).memory());
        assertNull(c.value(ConfigOptions.STORE_NAMESPACE));
        assertEquals(Duration.ofMillis(200), c.value(ConfigOptions.STORE_TIMEOUT));
        assertEquals(StoreFailureMode.LOCAL, c.value(ConfigOptions.STORE_ON_FAILURE));
    }

    @Test
    void redisUrlWithEveryPart() throws Exception {
        StoreAddress a = sources().prop("tokenguard.store", "rediss://app:s3cr%40t@redis.internal:6380/3").load()
                .value(ConfigOptions.STORE);
        assertEquals(new StoreAddress("redis.internal", 6380, 3, true, "app", "s3cr@t"), a);
        assertEquals("rediss://redis.internal:6380/3", a.toString());
        StoreAddress plain = sources().prop("tokenguard.store", "redis://127.0.0.1").load().value(ConfigOptions.STORE);
        assertEquals(new StoreAddress("127.0.0.1", 6379, 0, false, null, null), plain);
    }

    @Test
    void passwordOnlyUserInfoAndTheEnvironmentVariableWins() throws Exception {
        StoreAddress a = sources().prop("tokenguard.store", "redis://:from-url@h:1/0").load().value(ConfigOptions.STORE);
        assertEquals("from-url", a.password());
        assertNull(a.user());
        assertEquals("from-env", a.withPasswordFrom(Map.of("TOKENGUARD_STORE_PASSWORD", "from-env")).password());
        assertEquals("from-url", a.withPasswordFrom(Map.of()).password());
    }

    @Test
    void thePasswordVariableIsNotAnUnknownSetting() throws Exception {
        TokenGuardConfig c = sources().env("TOKENGUARD_STORE_PASSWORD", "pw-123456").env("TOKENGUARD_STORE",
                "redis://127.0.0.1:6379/0").load();
        assertEquals("redis://127.0.0.1:6379/0", c.value(ConfigOptions.STORE).toString());
        assertFalse(c.toString().contains("pw-123456"), c.toString());
    }

    @Test
    void badValuesAreOneLineAndNeverShowThePassword() {
        assertEquals("TokenGuard: invalid value 'http://redis:6379' for tokenguard.store (from -D system property):"
                + " unknown store; expected memory, or redis://host[:port][/db] (rediss:// for TLS; a password as the URL's user info or in"
                + " TOKENGUARD_STORE_PASSWORD),"
                + " e.g. redis://redis.internal:6379/0; TokenGuard is disabled, the application runs uninstrumented",
                sources().prop("tokenguard.store", "http://redis:6379").error());
        String m = sources().prop("tokenguard.store", "redis://:hunter2-secret@redis:6379/db").error();
        assertFalse(m.contains("hunter2-secret"), m);
        assertTrue(m.contains("the path must be a database number"), m);
        assertEquals("TokenGuard: invalid value 'sometimes' for tokenguard.store.on-failure (from -D system property):"
                + " expected local or refuse; TokenGuard is disabled, the application runs uninstrumented",
                sources().prop("tokenguard.store.on-failure", "sometimes").error());
        assertEquals("TokenGuard: invalid value 'a b' for tokenguard.store.namespace (from -D system property):"
                + " expected letters, digits, ., _ and -, e.g. checkout; TokenGuard is disabled, the application"
                + " runs uninstrumented", sources().prop("tokenguard.store.namespace", "a b").error());
        assertTrue(sources().prop("tokenguard.store.timeout", "0").error().contains("must be greater than 0"));
    }

    @Test
    void theCaFileMustHoldCertificates(@TempDir Path dir) throws Exception {
        assertNull(sources().load().value(ConfigOptions.STORE_TLS_CA_FILE));
        Path ca = TestCertificates.issue(dir.resolve("ca"), "IP:127.0.0.1").caCert();
        assertEquals(ca, sources().prop("tokenguard.store.tls.ca-file", ca.toString()).load()
                .value(ConfigOptions.STORE_TLS_CA_FILE));
        Path text = Files.writeString(dir.resolve("notes.pem"), "not a certificate\n");
        String m = sources().prop("tokenguard.store.tls.ca-file", text.toString()).error();
        assertTrue(m.startsWith("TokenGuard: invalid value '" + text + "' for tokenguard.store.tls.ca-file (from -D"
                + " system property): "), m);
        assertTrue(m.contains("not a file of certificates") || m.contains("no certificate in it"), m);
        assertTrue(m.endsWith("; expected path of a readable PEM file of one or more CA certificates, or none;"
                + " TokenGuard is disabled, the application runs uninstrumented"), m);
        assertTrue(sources().prop("tokenguard.store.tls.ca-file", dir.resolve("absent.pem").toString()).error()
                .contains("no such file"));
    }
}
