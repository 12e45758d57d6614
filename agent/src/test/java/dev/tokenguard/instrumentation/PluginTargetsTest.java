package dev.tokenguard.instrumentation;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PluginTargetsTest {

    @Test
    void theWrittenOutTableNamesExactlyTheTypesThePluginsHook() {
        Set<String> declared = new HashSet<>();
        for (SdkPlugin plugin : Plugins.ALL) {
            declared.addAll(plugin.typeNames());
        }
        assertTrue(declared.contains("java.net.HttpURLConnection"), "the plugins were read: " + declared);
        assertEquals(declared, PluginTargets.ALL,
                "a plugin's hooked type changed: list it in PluginTargets.ALL, which the start-up transformer reads");
    }
}
