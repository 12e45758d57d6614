package dev.tokenguard.agent;

import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.springai.SpringAiAnthropicPlugin;
import dev.tokenguard.instrumentation.springai.SpringAiOpenAiPlugin;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spring AI 1.x jars on the test class path (1.1.2) have every method the spring-ai plugins hook or read. */
class SpringAiPresenceTest {

    @Test
    void theSpringAiJarsOnTheTestClassPathFitTheirDeclarations() {
        ClassLoader loader = getClass().getClassLoader();
        List<SdkPlugin> plugins = List.of(SpringAiOpenAiPlugin.DECLARATION, SpringAiAnthropicPlugin.DECLARATION);
        assertEquals(2, plugins.size());
        for (SdkPlugin plugin : plugins) {
            SdkPresence presence = new SdkPresence(plugin);
            assertNull(presence.firstMissing(loader), plugin.name());
            assertTrue(presence.matches(loader), plugin.name());
            assertEquals(plugin.name() + " 1.1.2", presence.describe(loader));
        }
    }
}
