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
 * thread the SDK handed the work to.
 */
public final class SdkMarks {
    private SdkMarks() {
    }

    /**
     * Whether an SDK whose plugin is on made the request.
     *
     * @param headers request headers (names in any case)
     * @param sdkOn   whether the plugin of the named SDK ({@code openai-java}, {@code anthropic-java}) is on
     */
    public static boolean ownedBySdk(Map<String, List<String>> headers, Predicate<String> sdkOn) {
        if (headers == null) {
            return false;
        }
        boolean stainless = false;
        boolean anthropic = false;
        for (String name : headers.keySet()) {
            String n = name == null ? "" : name.toLowerCase(Locale.ROOT);
            stainless |= n.startsWith("x-stainless-");
            anthropic |= n.equals("anthropic-version");
        }
        if (!stainless) {
            return false;
        }
        return sdkOn.test(anthropic ? "anthropic-java" : "openai-java");
    }
}
