package dev.tokenguard.instrumentation.apachehttp;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import java.util.List;

import static dev.tokenguard.instrumentation.Member.method;

/**
 * Apache HttpClient 5 (classic API) as the raw-HTTP fallback. Every {@code CloseableHttpClient.execute}
 * overload, the response-handler ones included, hands the request to
 * {@code doExecute(HttpHost, ClassicHttpRequest, HttpContext)} exactly once, and the two clients the
 * builders make ({@code InternalHttpClient}, {@code MinimalHttpClient}) implement it: that funnel is
 * hooked, so a refusal is thrown from the {@code execute} the app called before anything is sent, and
 * the response comes back with its entity observed. Retries and redirects the client makes inside
 * {@code doExecute} belong to the one call. The version is the {@code httpclient5} jar's manifest's.
 */
public final class ApacheHttpClientPlugin {
    static final String CLASSIC = "org.apache.hc.client5.http.impl.classic.";
    static final String CORE = "org.apache.hc.core5.http.";

    /**
     * Makes the call site on its first call (not {@code ApacheHttpCallSite::new}, which would load that class with the
     * declaration), one for all the hooks.
     */
    private static final CallSiteFactory APACHE_HTTP_CALL_SITE = new CallSites();

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("apache-httpclient5", "openai",
            CLASSIC + "CloseableHttpClient", new VersionRange("5.0", "6"), List.of(
                    new Hook(CLASSIC + "InternalHttpClient", List.of("doExecute"), 3, Layer.HTTP,
                            Hook.Shape.ARGUMENTS, APACHE_HTTP_CALL_SITE),
                    new Hook(CLASSIC + "MinimalHttpClient", List.of("doExecute"), 3, Layer.HTTP,
                            Hook.Shape.ARGUMENTS, APACHE_HTTP_CALL_SITE)),
            reads());

    private ApacheHttpClientPlugin() {
    }

    private static List<Member> reads() {
        return List.of(
                method(CORE + "HttpRequest", "getMethod", 0), method(CORE + "HttpRequest", "getPath", 0),
                method(CORE + "HttpRequest", "getUri", 0), method(CORE + "MessageHeaders", "getHeaders", 0),
                method(CORE + "NameValuePair", "getName", 0), method(CORE + "NameValuePair", "getValue", 0),
                method(CORE + "HttpHost", "toURI", 0),
                method(CORE + "HttpEntityContainer", "getEntity", 0),
                method(CORE + "HttpEntityContainer", "setEntity", 1),
                method(CORE + "HttpResponse", "getCode", 0),
                method(CORE + "HttpEntity", "isRepeatable", 0), method(CORE + "HttpEntity", "getContent", 0),
                method(CORE + "HttpEntity", "writeTo", 1), method(CORE + "HttpEntity", "isStreaming", 0),
                method(CORE + "EntityDetails", "getContentLength", 0));
    }

    private static final class CallSites implements CallSiteFactory {
        @Override
        public CallSite create(String method, Governor governor) {
            return new ApacheHttpCallSite(method, governor);
        }
    }
}
