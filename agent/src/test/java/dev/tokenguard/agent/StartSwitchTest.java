package dev.tokenguard.agent;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StartSwitchTest {

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void nothingSetStarts() {
        assertEquals(StartSwitch.START, StartSwitch.of(null, props(), Map.of()));
        assertEquals(StartSwitch.START, StartSwitch.of("budget.max-tokens=10", props(), Map.of()));
    }

    @Test
    void disabledInAnySourceWhenNoHigherOneSaysOtherwise() {
        assertEquals(StartSwitch.DISABLED, StartSwitch.of("budget.max-tokens=10, enabled = FALSE ", props(), Map.of()));
        assertEquals(StartSwitch.DISABLED, StartSwitch.of(null, props("tokenguard.enabled", "false"), Map.of()));
        assertEquals(StartSwitch.DISABLED, StartSwitch.of("", props(), Map.of("TOKENGUARD_ENABLED", "false")));
        // precedence: agent argument, then system property, then environment
        assertEquals(StartSwitch.START, StartSwitch.of("enabled=true", props("tokenguard.enabled", "false"),
                Map.of("TOKENGUARD_ENABLED", "false")));
        assertEquals(StartSwitch.START, StartSwitch.of(null, props("tokenguard.enabled", "true"),
                Map.of("TOKENGUARD_ENABLED", "false")));
        // blank counts as not set
        assertEquals(StartSwitch.DISABLED, StartSwitch.of("enabled= ", props("tokenguard.enabled", " "),
                Map.of("TOKENGUARD_ENABLED", "false")));
    }

    @Test
    void aConfigFileOrAMalformedValueIsReadWithTheWholeConfiguration() {
        assertEquals(StartSwitch.READ_FIRST, StartSwitch.of("config.file=tg.yaml", props(), Map.of()));
        assertEquals(StartSwitch.READ_FIRST, StartSwitch.of(null, props("tokenguard.config.file", "tg.yaml"), Map.of()));
        assertEquals(StartSwitch.READ_FIRST, StartSwitch.of(null, props(), Map.of("TOKENGUARD_CONFIG_FILE", "tg.yaml")));
        assertEquals(StartSwitch.START, StartSwitch.of("config.file=none", props(), Map.of()));
        assertEquals(StartSwitch.READ_FIRST, StartSwitch.of("enabled=no", props(), Map.of()));
        // an explicit true wins over whatever the file says
        assertEquals(StartSwitch.START, StartSwitch.of("enabled=true,config.file=tg.yaml", props(), Map.of()));
    }
}
