package dev.tokenguard.it;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent jar holds only TokenGuard's classes and relocated third-party ones, and says it is an agent. */
class AgentJarIT {
    static final Pattern ALLOWED = Pattern.compile("dev/|dev/tokenguard/.*|META-INF/|META-INF/licenses/.*|META-INF/MANIFEST\\.MF"
            + "|META-INF/services/|META-INF/services/dev\\.tokenguard\\.shaded\\..*|META-INF/(LICENSE|NOTICE)(\\.txt|\\.md)?"
            + "|META-INF/[A-Za-z-]*(LICENSE|NOTICE)[A-Za-z.-]*");

    @Test
    void everyEntryIsOursOrRelocated() throws Exception {
        try (JarFile jar = new JarFile(ForkedJvm.AGENT_JAR.toFile())) {
            List<String> foreign = jar.stream().map(e -> e.getName()).filter(n -> !ALLOWED.matcher(n).matches())
                    .collect(Collectors.toList());
            assertEquals(List.of(), foreign);
            assertTrue(jar.stream().anyMatch(e -> e.getName().startsWith("dev/tokenguard/shaded/net/bytebuddy/")));
            assertTrue(jar.stream().anyMatch(e -> e.getName().startsWith("dev/tokenguard/shaded/com/fasterxml/jackson/")));
        }
    }

    @Test
    void theManifestDeclaresTheAgent() throws Exception {
        try (JarFile jar = new JarFile(ForkedJvm.AGENT_JAR.toFile())) {
            Attributes main = jar.getManifest().getMainAttributes();
            assertEquals("dev.tokenguard.agent.TokenGuardAgent", main.getValue("Premain-Class"));
            assertEquals("dev.tokenguard.agent.TokenGuardAgent", main.getValue("Agent-Class"));
            assertEquals("true", main.getValue("Can-Retransform-Classes"));
            assertEquals("dev.tokenguard.agent.TokenGuardCli", main.getValue("Main-Class"));
        }
    }
}
