package dev.tokenguard.config;

import java.net.URI;
import java.util.Objects;

/**
 * One entry of {@code tokenguard.http.endpoints}: a base URL the raw-HTTP fallback governs, and optionally the
 * provider whose wire format it speaks ({@code http://llm.internal:8000=openai}).
 *
 * @param baseUri  absolute http or https URL, without user info, query or fragment
 * @param provider GenAI provider name such as {@code openai}, or {@code null} when not given
 */
public record HttpEndpoint(URI baseUri, String provider) {
    public HttpEndpoint {
        Objects.requireNonNull(baseUri, "baseUri");
        // The message never repeats the URL: what is refused here is exactly what may hold a secret.
        if (baseUri.getRawUserInfo() != null || baseUri.getRawQuery() != null || baseUri.getRawFragment() != null) {
            throw new IllegalArgumentException("a base URL has no user info, query or fragment");
        }
    }

    /** Scheme, host, port and path, then {@code =provider} when given. */
    @Override
    public String toString() {
        String port = baseUri.getPort() < 0 ? "" : ":" + baseUri.getPort();
        String path = baseUri.getRawPath() == null ? "" : baseUri.getRawPath();
        String base = baseUri.getScheme() + "://" + baseUri.getHost() + port + path;
        return provider == null ? base : base + "=" + provider;
    }
}
