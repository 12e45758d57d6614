package dev.tokenguard.instrumentation.http;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which requests the HTTP layer leaves to an SDK plugin, told by their headers alone. */
class SdkMarksTest {

    @Test
    void theAzureOpenAiSdksUserAgentBelongsToItsPluginWhileThatPluginIsOn() {
        Map<String, List<String>> plain = Map.of("User-Agent",
                List.of("azsdk-java-azure-ai-openai/1.0.0-beta.16 (17.0.15; Linux; 6.1)"));
        Map<String, List<String>> withAppId = Map.of("user-agent",
                List.of("ticket-service azsdk-java-azure-ai-openai/1.0.0-beta.1 (17.0.15; Linux; 6.1)"));
        assertTrue(SdkMarks.ownedBySdk(plain, "azure-ai-openai"::equals));
        assertTrue(SdkMarks.ownedBySdk(withAppId, "azure-ai-openai"::equals));
        assertFalse(SdkMarks.ownedBySdk(plain, name -> !name.equals("azure-ai-openai")), "plugin off: the HTTP layer's");
    }

    @Test
    void otherAzureSdksAndOtherClientsAreNotMarked() {
        assertFalse(SdkMarks.ownedBySdk(Map.of("User-Agent", List.of("azsdk-java-azure-storage-blob/12.29.0")),
                name -> true));
        assertFalse(SdkMarks.ownedBySdk(Map.of("User-Agent", List.of("Java-http-client/17.0.15")), name -> true));
        assertFalse(SdkMarks.ownedBySdk(Map.of(), name -> true));
    }

    @Test
    void theGoogleGenAiSdksClientHeaderBelongsToItsPluginWhileThatPluginIsOn() {
        Map<String, List<String>> client = Map.of("x-goog-api-client", List.of("google-genai-sdk/2.0.0 gl-java/17.0.15"));
        Map<String, List<String>> extended = Map.of("User-Agent",
                List.of("google-genai-sdk/1.58.0+vertex-genai-modules/1.2.3 gl-java/17.0.15"));
        assertTrue(SdkMarks.ownedBySdk(client, "google-genai"::equals));
        assertTrue(SdkMarks.ownedBySdk(extended, "google-genai"::equals));
        assertFalse(SdkMarks.ownedBySdk(client, name -> !name.equals("google-genai")), "plugin off: the HTTP layer's");
        assertFalse(SdkMarks.ownedBySdk(Map.of("x-goog-api-client", List.of("gl-java/17 gdcl/2.1.0")), name -> true),
                "another Google client library is not this SDK");
    }

    @Test
    void stainlessHeadersStillNameTheirSdk() {
        Map<String, List<String>> openAi = Map.of("X-Stainless-Lang", List.of("java"));
        assertTrue(SdkMarks.ownedBySdk(openAi, "openai-java"::equals));
        assertFalse(SdkMarks.ownedBySdk(openAi, "anthropic-java"::equals));
    }
}
