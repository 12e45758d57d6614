package dev.tokenguard.instrumentation.jdkhttp;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import java.util.List;

/**
 * The JDK's own {@code java.net.http.HttpClient}: requests to known LLM endpoints sent with
 * {@code send(request, handler)} and {@code sendAsync(request, handler[, pushPromiseHandler])}.
 *
 * <p>The hooked type is {@code jdk.internal.net.http.HttpClientFacade}, the object
 * {@code HttpClient.newHttpClient()} and {@code HttpClient.newBuilder().build()} return: each of its
 * public {@code send}/{@code sendAsync} methods hands the call to the implementation exactly once,
 * whereas the implementation's own public methods call one another (so hooking them would see a
 * {@code sendAsync} twice). The class lives in the JDK's {@code java.net.http} module, so its version
 * is the running JDK's.
 */
public final class JdkHttpClientPlugin {
    static final String FACADE = "jdk.internal.net.http.HttpClientFacade";

    /**
     * Makes the call site on its first call (not {@code JdkHttpCallSite::new}, which would load that class with the
     * declaration), one for all the hooks.
     */
    private static final CallSiteFactory JDK_HTTP_CALL_SITE = new CallSites();

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("jdk-http-client", "openai", FACADE,
            new VersionRange("17", "26"), List.of(
                    new Hook(FACADE, List.of("send", "sendAsync"), 2, Layer.HTTP, Hook.Shape.REQUEST_AND_HANDLER,
                            JDK_HTTP_CALL_SITE),
                    new Hook(FACADE, List.of("sendAsync"), 3, Layer.HTTP, Hook.Shape.REQUEST_AND_HANDLER,
                            JDK_HTTP_CALL_SITE)),
            List.of());

    private JdkHttpClientPlugin() {
    }

    private static final class CallSites implements CallSiteFactory {
        @Override
        public CallSite create(String method, Governor governor) {
            return new JdkHttpCallSite(method, governor);
        }
    }
}
