package dev.tokenguard.instrumentation.stainless;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;

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

    /**
     * The call sites of one hook on {@code api}'s {@code create} and {@code createStreaming} (whichever the hook
     * has), blocking or {@code async}.
     */
    public CallSiteFactory callSites(StainlessApi api, boolean async) {
        return new CallSites(this, api, async);
    }

    private static final class CallSites implements CallSiteFactory {
        private final StainlessSdk sdk;
        private final StainlessApi api;
        private final boolean async;

        CallSites(StainlessSdk sdk, StainlessApi api, boolean async) {
            this.sdk = sdk;
            this.api = api;
            this.async = async;
        }

        @Override
        public CallSite create(String method, Governor governor) {
            return new StainlessCallSite(new StainlessSite(sdk, api, method.equals("createStreaming"), async), governor);
        }
    }
}
