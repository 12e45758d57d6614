package dev.tokenguard.instrumentation.stainless;

import java.net.URI;
import java.util.function.Function;

/**
 * What differs between the Stainless-generated SDKs at the level of the whole SDK: the package of
 * their {@code core} classes ({@code HttpResponseFor}, {@code StreamResponse}, {@code ObjectMappers})
 * and how a client's base URL names the provider.
 *
 * @param name        the SDK's name, for failure reports, e.g. {@code anthropic-java}
 * @param corePackage e.g. {@code com.openai.core}
 * @param provider    the GenAI provider name for a client's base URL (which may be null)
 */
public record StainlessSdk(String name, String corePackage, Function<URI, String> provider) {

    /** The raw-response interface, e.g. {@code com.openai.core.http.HttpResponseFor}. */
    public String httpResponseFor() {
        return corePackage + ".http.HttpResponseFor";
    }

    /** The stream interface, e.g. {@code com.openai.core.http.StreamResponse}. */
    public String streamResponse() {
        return corePackage + ".http.StreamResponse";
    }

    /** The class whose {@code jsonMapper()} serialises request bodies as the SDK sends them. */
    public String objectMappers() {
        return corePackage + ".ObjectMappers";
    }
}
