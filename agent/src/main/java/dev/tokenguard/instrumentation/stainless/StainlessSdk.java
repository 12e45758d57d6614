package dev.tokenguard.instrumentation.stainless;

import java.net.URI;
import java.util.function.Function;

/**
 * What differs between the Stainless-generated SDKs at the level of the whole SDK: the package of
 * their {@code core} classes ({@code HttpResponseFor}, {@code StreamResponse}, {@code ObjectMappers})
 * and how a client's base URL names the provider.
 *
 * @param name            the SDK's name, for failure reports, e.g. {@code anthropic-java}
 * @param corePackage     e.g. {@code com.openai.core}
 * @param provider        the GenAI provider name for a client's base URL (which may be null)
 * @param httpResponseFor the raw-response interface, e.g. {@code com.openai.core.http.HttpResponseFor}
 * @param streamResponse  the stream interface, e.g. {@code com.openai.core.http.StreamResponse}
 * @param objectMappers   the class whose {@code jsonMapper()} serialises request bodies as the SDK sends them
 */
public record StainlessSdk(String name, String corePackage, Function<URI, String> provider, String httpResponseFor,
                           String streamResponse, String objectMappers) {

    /** The class names below the core package, made once (they are asked for on every call). */
    public StainlessSdk(String name, String corePackage, Function<URI, String> provider) {
        this(name, corePackage, provider, corePackage + ".http.HttpResponseFor", corePackage + ".http.StreamResponse",
                corePackage + ".ObjectMappers");
    }
}
