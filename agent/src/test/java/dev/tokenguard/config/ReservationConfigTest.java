package dev.tokenguard.config;

import dev.tokenguard.core.Reservations;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tokenguard.budget.reserve-output}, {@code reserve-wait} and {@code idle-release}. */
class ReservationConfigTest {
    static TokenGuardConfig load(String args) throws ConfigException {
        return ConfigLoader.load(args, new Properties(), Map.of());
    }

    @Test
    void defaults() throws Exception {
        TokenGuardConfig c = load(null);
        assertEquals(new Reservations(1024, Duration.ofSeconds(30)), c.reservations());
        assertEquals(Duration.ofMinutes(15), c.idleRelease());
    }

    @Test
    void valuesFromEverySource() throws Exception {
        assertEquals(new Reservations(4000, Duration.ofMillis(500)),
                load("budget.reserve-output=4k,budget.reserve-wait=500ms").reservations());
        assertEquals(new Reservations(0, Duration.ZERO), load("budget.reserve-output=0,budget.reserve-wait=0")
                .reservations());
        assertFalse(load("budget.reserve-output=off").reservations().on());
        Properties p = new Properties();
        p.setProperty("tokenguard.budget.idle-release", "2h");
        assertEquals(Duration.ofHours(2), ConfigLoader.load(null, p, Map.of()).idleRelease());
        assertEquals(Duration.ofSeconds(5), ConfigLoader.load(null, new Properties(),
                Map.of("TOKENGUARD_BUDGET_RESERVE_WAIT", "5s")).reservations().reserveWait());
    }

    @Test
    void badValuesNameTheKeyTheValueAndTheExpectedForm() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("budget.reserve-output=lots"));
        assertTrue(e.getMessage().contains("'lots'") && e.getMessage().contains("tokenguard.budget.reserve-output")
                && e.getMessage().contains("or off"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> load("budget.reserve-wait=10"));
        assertTrue(e.getMessage().contains("'10'") && e.getMessage().contains("500ms"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> load("budget.idle-release=0"));
        assertTrue(e.getMessage().contains("must be greater than 0"), e.getMessage());
    }

    @Test
    void aNamedBudgetCannotSetTheEngineWideKeys() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> load("budgets.batch.max-tokens=5,budgets.batch.reserve-output=10"));
        assertTrue(e.getMessage().contains("reserve-output"), e.getMessage());
    }
}
