package dev.tokenguard.agent;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.SdkInstrumentation;
import dev.tokenguard.instrumentation.openai.OpenAiInstrumentation;
import net.bytebuddy.agent.builder.AgentBuilder;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SdkPresenceTest {

    /** An SDK whose marker is present but one needed class is not: a version the agent does not fit. */
    static SdkInstrumentation withRequired(String marker, List<String> required) {
        return new SdkInstrumentation() {
            @Override
            public String sdkName() {
                return "some-sdk";
            }

            @Override
            public String markerClass() {
                return marker;
            }

            @Override
            public List<String> requiredClasses() {
                return required;
            }

            @Override
            public List<String> typeNames() {
                return List.of();
            }

            @Override
            public AgentBuilder.Transformer transformer() {
                return (builder, type, loader, module, domain) -> builder;
            }

            @Override
            public Map<String, CallSite> sites(Governor governor) {
                return Map.of();
            }
        };
    }

    @Test
    void theRealOpenAiSdkOnTheTestClassPathFits() {
        SdkPresence presence = new SdkPresence(new OpenAiInstrumentation());
        assertTrue(presence.matches(getClass().getClassLoader()));
        assertTrue(presence.describe(getClass().getClassLoader()).startsWith("openai-java 4."));
    }

    @Test
    void aVersionMissingANeededClassIsSkippedWholeWithOneLine() {
        SdkPresence presence = new SdkPresence(withRequired("com.openai.client.OpenAIClient",
                List.of("com.openai.core.http.HttpResponseFor", "com.openai.NoSuchClassInAnyVersion")));
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            ClassLoader loader = getClass().getClassLoader();
            assertFalse(presence.matches(loader));
            assertFalse(presence.matches(new ClassLoader(loader) { }));
        } finally {
            System.setErr(original);
        }
        List<String> lines = captured.toString().lines().toList();
        assertEquals(1, lines.size(), lines::toString);
        assertTrue(lines.get(0).contains("found but not supported (no com.openai.NoSuchClassInAnyVersion)"),
                lines.get(0));
    }

    @Test
    void aLoaderWithoutTheSdkIsSkippedSilently() {
        SdkPresence presence = new SdkPresence(withRequired("com.example.NotThere", List.of()));
        assertFalse(presence.matches(getClass().getClassLoader()));
        assertFalse(presence.matches(null));
    }
}
