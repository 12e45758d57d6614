package dev.tokenguard.instrumentation.http;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Tells, from a request's headers, that an SDK TokenGuard governs at its own layer made it. The
 * Stainless-generated SDKs (openai-java, anthropic-java) put {@code X-Stainless-*} headers on every
 * request, retries included; anthropic-java also sends {@code anthropic-version}. Such a request
 * belongs to the SDK's plugin while that plugin is on, so the HTTP layer leaves it alone even on a
 * thread the SDK handed the work to. The Azure SDK for Java names itself in its {@code User-Agent}
 * ({@code azsdk-java-azure-ai-openai/<version>}, after an optional application id), whichever HTTP
 * client azure-core runs on. The Google GenAI SDK names itself in {@code x-goog-api-client} and {@code User-Agent}
 * ({@code google-genai-sdk/<version>}, possibly followed by {@code +} and an extension's name).
 */
public final class SdkMarks {
    /** The Azure OpenAI SDK's plugin name, and the marker of its {@code User-Agent}. */
    private static final String AZURE_OPENAI = "azure-ai-openai";
    private static final String AZURE_OPENAI_AGENT = "azsdk-java-azure-ai-openai/";

    /** The Google GenAI SDK's plugin name, and the marker of its {@code x-goog-api-client} and {@code User-Agent}. */
    private static final String GOOGLE_GENAI = "google-genai";
    private static final String GOOGLE_GENAI_AGENT = "google-genai-sdk/";

    private SdkMarks() {
    }

    private static boolean madeByGoogleGenAi(List<String> values) {
        if (values != null) {
            for (String value : values) {
                if (value != null && value.contains(GOOGLE_GENAI_AGENT)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean madeByAzureOpenAi(List<String> values) {
        if (values != null) {
            for (String value : values) {
                if (value != null && value.contains(AZURE_OPENAI_AGENT)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Whether an SDK whose plugin is on made the request.
     *
     * @param headers request headers (names in any case)
     * @param sdkOn   whether the plugin of the named SDK ({@code openai-java}, {@code anthropic-java},
     *                {@code azure-ai-openai}, {@code google-genai}) is on
     */
    public static boolean ownedBySdk(Map<String, List<String>> headers, Predicate<String> sdkOn) {
        if (headers == null) {
            return false;
        }
        boolean stainless = false;
        boolean anthropic = false;
        for (Map.Entry<String, List<String>> header : headers.entrySet()) {
            String n = header.getKey() == null ? "" : header.getKey().toLowerCase(Locale.ROOT);
            stainless |= n.startsWith("x-stainless-");
            anthropic |= n.equals("anthropic-version");
            if (n.equals("user-agent") && madeByAzureOpenAi(header.getValue())) {
                return sdkOn.test(AZURE_OPENAI);
            }
            if ((n.equals("x-goog-api-client") || n.equals("user-agent")) && madeByGoogleGenAi(header.getValue())) {
                return sdkOn.test(GOOGLE_GENAI);
            }
        }
        if (!stainless) {
            return false;
        }
        return sdkOn.test(anthropic ? "anthropic-java" : "openai-java");
    }
}
