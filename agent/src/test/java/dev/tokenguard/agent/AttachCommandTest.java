package dev.tokenguard.agent;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AttachCommandTest {

    @Test
    void java21AndLaterWarnUnlessDynamicLoadingIsEnabled() {
        assertFalse(AttachCommand.warnsOnDynamicLoading("17", ""));
        assertFalse(AttachCommand.warnsOnDynamicLoading("1.8", ""));
        assertTrue(AttachCommand.warnsOnDynamicLoading("21", "-Xmx1g"));
        assertTrue(AttachCommand.warnsOnDynamicLoading("25", ""));
        assertFalse(AttachCommand.warnsOnDynamicLoading("25", "-Xmx1g -XX:+EnableDynamicAgentLoading"));
        assertTrue(AttachCommand.warnsOnDynamicLoading("25", "-XX:-EnableDynamicAgentLoading"));
        assertFalse(AttachCommand.warnsOnDynamicLoading("?", ""));
    }

    @Test
    void aPidThatIsNoNumberIsRefusedWithOneLine() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = AttachCommand.run("12ab", null, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        assertEquals("TokenGuard: attach needs the process id of a running JVM, a whole number; got '12ab'\n",
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingIsLoaded() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String self = String.valueOf(ProcessHandle.current().pid()); // a running JVM; nothing is attached to it
        int status = AttachCommand.run(self, "budget.max-tokens=50k,budget.mode=warn",
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        assertEquals("TokenGuard: unknown configuration key tokenguard.budget.mode (from agent argument): the closest "
                + "known key is tokenguard.mode; nothing loaded into JVM " + self + "\n",
                err.toString(StandardCharsets.UTF_8));
    }
}
