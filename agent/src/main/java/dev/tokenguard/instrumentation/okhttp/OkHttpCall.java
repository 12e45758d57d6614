package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okhttp;
import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okio;

import java.lang.reflect.Proxy;

/** One OkHttp call governed at the HTTP layer, between the advice's enter and exit. */
final class OkHttpCall implements GovernedCall {
    private final HttpLlmCall call;
    private final boolean enqueued;
    private final ClassLoader loader;

    /** @param loader OkHttp's class loader */
    OkHttpCall(HttpLlmCall call, boolean enqueued, ClassLoader loader) {
        this.call = call;
        this.enqueued = enqueued;
        this.loader = loader;
    }

    /** For {@code enqueue(Callback)}, the callback: handed on through a {@link GovernedCallback}. */
    @Override
    public Object request(Object callback) {
        if (!enqueued || callback == null) {
            return callback;
        }
        try {
            Class<?> type = Class.forName(okhttp("Callback"), false, loader);
            return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                    new GovernedCallback(callback, call));
        } catch (ClassNotFoundException | RuntimeException | LinkageError e) {
            call.end(null);
            throw new IllegalStateException("OkHttp callback not observable: " + e, e);
        }
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (thrown != null) {
            call.failed(thrown);
            return returned;
        }
        if (enqueued) {
            return returned;
        }
        return returned == null ? null : Callbacks.get("okhttp.response",
                () -> OkHttpResponses.observe(returned, call), returned);
    }
}
