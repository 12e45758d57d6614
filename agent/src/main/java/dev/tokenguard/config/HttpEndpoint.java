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
    }

    @Override
    public String toString() {
        return provider == null ? baseUri.toString() : baseUri + "=" + provider;
    }
}
