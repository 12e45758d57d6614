package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okhttp;
import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okio;

import java.util.List;

import static dev.tokenguard.instrumentation.Member.field;
import static dev.tokenguard.instrumentation.Member.method;

/**
 * OkHttp 4.9 to 5.x as the raw-HTTP fallback: a request to a known LLM endpoint made through OkHttp
 * and governed by no upper layer is governed at {@code RealCall}, where exactly one call (one physical
 * request, retries and redirects within OkHttp's own chain aside) starts: {@code execute()} on the
 * calling thread and {@code enqueue(Callback)} before the call is handed to the dispatcher. The
 * provider is the one of the request's route ({@code KnownEndpoints}). OkHttp's jars carry no
 * version in their manifest, so presence is decided by the hooked methods and the members read.
 */
public final class OkHttpPlugin {
    static final String REAL_CALL = okhttp("internal.connection.RealCall");

    /**
     * Makes the call site on its first call (not {@code OkHttpCallSite::new}, which would load that class with the
     * declaration), one for all the hooks.
     */
    private static final CallSiteFactory OK_HTTP_CALL_SITE = new CallSites();

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("okhttp", "openai", okhttp("OkHttpClient"),
            new VersionRange("4.9.0", "6"), List.of(
                    new Hook(REAL_CALL, List.of("execute"), 0, Layer.HTTP, Hook.Shape.TARGET, OK_HTTP_CALL_SITE),
                    new Hook(REAL_CALL, List.of("enqueue"), 1, Layer.HTTP, Hook.Shape.REQUEST, OK_HTTP_CALL_SITE)),
            reads());

    private OkHttpPlugin() {
    }

    private static List<Member> reads() {
        return List.of(
                field(REAL_CALL, "originalRequest"), method(REAL_CALL, "request", 0),
                method(okhttp("Request"), "method", 0), method(okhttp("Request"), "url", 0),
                method(okhttp("Request"), "headers", 0), method(okhttp("Request"), "body", 0),
                method(okhttp("Request"), "newBuilder", 0), method(okhttp("Request$Builder"), "method", 2),
                method(okhttp("Request$Builder"), "build", 0), method(okhttp("HttpUrl"), "uri", 0),
                method(okhttp("Headers"), "toMultimap", 0),
                method(okhttp("RequestBody"), "writeTo", 1), method(okhttp("RequestBody"), "contentType", 0),
                method(okhttp("RequestBody"), "isOneShot", 0), method(okhttp("RequestBody"), "isDuplex", 0),
                method(okhttp("RequestBody"), "create", 2),
                method(okhttp("Response"), "code", 0), method(okhttp("Response"), "body", 0),
                method(okhttp("Response"), "newBuilder", 0), method(okhttp("Response$Builder"), "body", 1),
                method(okhttp("Response$Builder"), "build", 0),
                method(okhttp("ResponseBody"), "source", 0), method(okhttp("ResponseBody"), "contentType", 0),
                method(okhttp("ResponseBody"), "contentLength", 0), method(okhttp("ResponseBody"), "create", 3),
                method(okhttp("Callback"), "onResponse", 2), method(okhttp("Callback"), "onFailure", 2),
                method(okio("Source"), "read", 2), method(okio("Source"), "timeout", 0),
                method(okio("Source"), "close", 0), method(okio("Buffer"), "readByteArray", 0),
                method(okio("Buffer"), "write", 3), method(okio("Okio"), "buffer", 1));
    }

    private static final class CallSites implements CallSiteFactory {
        @Override
        public CallSite create(String method, Governor governor) {
            return new OkHttpCallSite(method, governor);
        }
    }
}
