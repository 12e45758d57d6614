package dev.tokenguard.agent;

import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.dynamic.Nexus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

class AgentInstallerNexusTest {

    @Test
    void theNexusSwitchIsOnlySetWhileTheBuilderIsMadeAndAnEarlierValueIsPutBack() {
        assertNull(System.getProperty(Nexus.PROPERTY));
        AgentBuilder.Default builder = AgentInstaller.withoutNexus();
        assertNotNull(builder);
        assertNull(System.getProperty(Nexus.PROPERTY), "the property is removed again");

        System.setProperty(Nexus.PROPERTY, "false");
        try {
            AgentInstaller.withoutNexus();
            assertEquals("false", System.getProperty(Nexus.PROPERTY), "a value the JVM had is put back");
        } finally {
            System.clearProperty(Nexus.PROPERTY);
        }
    }
}
