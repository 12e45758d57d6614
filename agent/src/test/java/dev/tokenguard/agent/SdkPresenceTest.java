package dev.tokenguard.agent;

import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;
import dev.tokenguard.instrumentation.anthropic.AnthropicPlugin;
import dev.tokenguard.instrumentation.langchain4j.LangChain4jPlugin;
import dev.tokenguard.instrumentation.bedrock.BedrockPlugin;
import dev.tokenguard.instrumentation.ollama.Ollama4jPlugin;
import dev.tokenguard.instrumentation.openai.OpenAiPlugin;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SdkPresenceTest {
    static final String OPENAI_CHAT = "com.openai.services.blocking.chat.ChatCompletionServiceImpl$WithRawResponseImpl";

    /** The openai-java declaration with another version range, hooks or reads. */
    static SdkPlugin openAiWith(VersionRange versions, List<Hook> hooks, List<Member> reads) {
        SdkPlugin real = OpenAiPlugin.DECLARATION;
        return new SdkPlugin("openai-java", "openai", real.markerClass(), versions, hooks, reads);
    }

    /** What {@code action} printed on stderr, line by line. */
    static List<String> stderrOf(Supplier<Boolean> action, boolean expected) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            assertEquals(expected, action.get());
        } finally {
            System.setErr(original);
        }
        return captured.toString().lines().toList();
    }

    @Test
    void theRealSdksOnTheTestClassPathFitTheirDeclarations() {
        ClassLoader loader = getClass().getClassLoader();
        SdkPresence openAi = new SdkPresence(OpenAiPlugin.DECLARATION);
        assertNull(openAi.firstMissing(loader));
        assertTrue(openAi.matches(loader));
        assertTrue(openAi.describe(loader).startsWith("openai-java 4."), openAi.describe(loader));
        SdkPresence anthropic = new SdkPresence(AnthropicPlugin.DECLARATION);
        assertNull(anthropic.firstMissing(loader));
        assertTrue(anthropic.matches(loader));
        assertTrue(anthropic.describe(loader).startsWith("anthropic-java 3."), anthropic.describe(loader));
    }

    @Test
    void anSdkWhoseManifestNamesNoVersionIsReadFromItsJarsPomProperties() {
        ClassLoader loader = getClass().getClassLoader();
        SdkPresence bedrock = new SdkPresence(BedrockPlugin.DECLARATION);
        assertNull(bedrock.firstMissing(loader));
        assertTrue(bedrock.matches(loader));
        // the AWS SDK's jars carry no Implementation-Version; the build's own figure is the oracle
        assertEquals("aws-bedrock " + System.getProperty("tokenguard.test.awssdk.version"),
                bedrock.describe(loader));
    }

    @Test
    void ollama4jOnTheTestClassPathFitsItsDeclaration() {
        ClassLoader loader = getClass().getClassLoader();
        SdkPresence ollama4j = new SdkPresence(Ollama4jPlugin.DECLARATION);
        assertNull(ollama4j.firstMissing(loader));
        assertTrue(ollama4j.matches(loader));
        // ollama4j's manifest names no version either: it comes from its pom.properties
        assertEquals("ollama4j " + System.getProperty("tokenguard.test.ollama4j.version"), ollama4j.describe(loader));
    }

    @Test
    void aVersionOutsideTheDeclaredRangeIsSkippedWholeWithOneLine() {
        SdkPresence presence = new SdkPresence(openAiWith(new VersionRange("5.0.0", "6"),
                OpenAiPlugin.DECLARATION.hooks(), OpenAiPlugin.DECLARATION.reads()));
        ClassLoader loader = getClass().getClassLoader();
        String version = presence.version(loader);
        List<String> lines = stderrOf(() -> presence.matches(loader) || presence.matches(new ClassLoader(loader) { }),
                false);
        assertEquals(List.of("[tokenguard] TokenGuard: openai-java " + version + " found but not supported (supported"
                + " versions are 5.0.0 up to (not including) 6); its calls are not governed"), lines);
    }

    @Test
    void aVersionLackingAMemberThePluginReadsIsSkippedWholeWithOneLineNamingIt() {
        List<Member> reads = new java.util.ArrayList<>(OpenAiPlugin.DECLARATION.reads());
        reads.add(Member.method("com.openai.models.completions.CompletionUsage", "promptTokenCount", 0));
        SdkPresence presence = new SdkPresence(openAiWith(OpenAiPlugin.DECLARATION.versions(),
                OpenAiPlugin.DECLARATION.hooks(), reads));
        ClassLoader loader = getClass().getClassLoader();
        List<String> lines = stderrOf(() -> presence.matches(loader), false);
        assertEquals(1, lines.size(), lines::toString);
        assertTrue(lines.get(0).endsWith("found but not supported (it has no com.openai.models.completions"
                + ".CompletionUsage.promptTokenCount(); supported versions are 4.0.0 up to (not including) 5); its"
                + " calls are not governed"), lines.get(0));
    }

    @Test
    void aHookedMethodWithAnotherParameterCountIsMissingToo() {
        Hook threeArgs = new Hook(OPENAI_CHAT, List.of("create"), 3, Layer.SDK, (m, g) -> null);
        SdkPresence presence = new SdkPresence(openAiWith(OpenAiPlugin.DECLARATION.versions(), List.of(threeArgs),
                List.of()));
        assertEquals(OPENAI_CHAT + ".create()", presence.firstMissing(getClass().getClassLoader()));
        Hook absentType = new Hook("com.openai.services.blocking.NoSuchServiceImpl", List.of("create"), 2, Layer.SDK,
                (m, g) -> null);
        assertEquals("com.openai.services.blocking.NoSuchServiceImpl", new SdkPresence(openAiWith(
                OpenAiPlugin.DECLARATION.versions(), List.of(absentType), List.of())).firstMissing(
                getClass().getClassLoader()));
    }

    @Test
    void aLoaderWithoutTheSdkIsSkippedSilently() {
        SdkPresence presence = new SdkPresence(new SdkPlugin("some-sdk", "x", "com.example.NotThere",
                new VersionRange("1", "2"), List.of(), List.of()));
        List<String> lines = stderrOf(() -> presence.matches(getClass().getClassLoader()) || presence.matches(null),
                false);
        assertEquals(List.of(), lines);
    }

    @Test
    void versionsCompareByTheirNumbersAndPreReleasesComeFirst() {
        VersionRange range = new VersionRange("2.0.0", "4");
        assertTrue(range.contains("2.0.0"));
        assertTrue(range.contains("3.14.0"));
        assertTrue(range.contains("2.10.1"));
        assertFalse(range.contains("1.9.9"));
        assertFalse(range.contains("4.0.0"));
        assertFalse(range.contains("2.0.0-beta.1"));
        assertFalse(range.contains("not-a-version"));
    }
    @Test
    void aJarWhoseManifestNamesNoVersionIsVersionedByItsMavenPomProperties() {
        // LangChain4j's jars carry their version only in META-INF/maven/.../pom.properties; the oracle is the
        // file name of the langchain4j-core jar on the test class path
        String jar = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .map(e -> java.nio.file.Path.of(e).getFileName().toString())
                .filter(n -> n.startsWith("langchain4j-core-") && n.endsWith(".jar")).findFirst().orElseThrow();
        String version = jar.substring("langchain4j-core-".length(), jar.length() - ".jar".length());
        ClassLoader loader = getClass().getClassLoader();
        SdkPresence langchain4j = new SdkPresence(LangChain4jPlugin.DECLARATION);
        assertEquals(version, langchain4j.version(loader));
        assertEquals("langchain4j " + version, langchain4j.describe(loader));
        assertTrue(langchain4j.matches(loader));
        SdkPlugin later = new SdkPlugin("langchain4j", "openai", LangChain4jPlugin.DECLARATION.markerClass(),
                new VersionRange("2.0.0", "3"), LangChain4jPlugin.DECLARATION.hooks(), List.of());
        List<String> lines = stderrOf(() -> new SdkPresence(later).matches(loader), false);
        assertEquals(List.of("[tokenguard] TokenGuard: langchain4j " + version + " found but not supported (supported"
                + " versions are 2.0.0 up to (not including) 3); its calls are not governed"), lines);
    }
}
