package dev.tokenguard.instrumentation.urlconnection;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import java.util.List;

/**
 * The JDK's {@code java.net.HttpURLConnection} ({@code sun.net.www.protocol.http.HttpURLConnection},
 * which HTTPS connections delegate to as well) as the raw-HTTP fallback.
 *
 * <p>Its request spans several calls of the app: the body is written to {@code getOutputStream()} and
 * held by the connection until {@code getInputStream()} or {@code getResponseCode()} sends it (or, in a
 * fixed-length or chunked streaming mode, sent as it is written, after {@code getOutputStream()} sent
 * the headers). So the governed call is kept per connection ({@link ConnectionCalls}): the streaming
 * mode setters mark it, {@code getOutputStream()} keeps a copy of the body the app writes, and the call
 * is decided where the request would leave, before anything does: at {@code getOutputStream()} in a
 * streaming mode, else at the first of {@code getResponseCode()} / {@code getInputStream()} (the
 * connection's other response readers go through {@code getInputStream()}). The response stream is
 * observed; {@code disconnect()} ends a call whose body the app never finished. The classes live in
 * {@code java.base}, so the version is the running JDK's.
 */
public final class HttpUrlConnectionPlugin {
    static final String SUN = "sun.net.www.protocol.http.HttpURLConnection";
    static final String JAVA_NET = "java.net.HttpURLConnection";

    /**
     * Makes the call site on its first call (not {@code UrlConnectionCallSite::new}, which would load that class with the
     * declaration), one for all the hooks.
     */
    private static final CallSiteFactory URL_CONNECTION_CALL_SITE = new CallSites();

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("http-url-connection", "openai", SUN,
            new VersionRange("17", "26"), List.of(
                    new Hook(JAVA_NET, List.of("setFixedLengthStreamingMode", "setChunkedStreamingMode"), 1,
                            Layer.HTTP, Hook.Shape.TARGET, URL_CONNECTION_CALL_SITE),
                    new Hook(JAVA_NET, List.of("getResponseCode"), 0, Layer.HTTP, Hook.Shape.TARGET,
                            URL_CONNECTION_CALL_SITE),
                    new Hook(SUN, List.of("getOutputStream", "getInputStream", "disconnect"), 0, Layer.HTTP,
                            Hook.Shape.TARGET, URL_CONNECTION_CALL_SITE)),
            List.of());

    private HttpUrlConnectionPlugin() {
    }

    private static final class CallSites implements CallSiteFactory {
        @Override
        public CallSite create(String method, Governor governor) {
            return new UrlConnectionCallSite(method, governor);
        }
    }
}
