package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * The app's {@code okhttp3.Callback} as an enqueued governed call hands it on (a JDK proxy): the
 * response reaches the app with its body observed ({@link OkHttpResponses}); a failure before any
 * response, or an app callback that throws, ends the call.
 */
final class GovernedCallback implements InvocationHandler {
    private final Object delegate;
    private final HttpLlmCall call;

    GovernedCallback(Object delegate, HttpLlmCall call) {
        this.delegate = delegate;
        this.call = call;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        int arity = args == null ? 0 : args.length;
        String name = method.getName();
        if (name.equals("onResponse") && arity == 2) {
            Object original = args[1];
            Object response = Callbacks.get("okhttp.response", () -> OkHttpResponses.observe(original, call),
                    original);
            return handOn(method, new Object[] {args[0], response});
        }
        if (name.equals("onFailure") && arity == 2 && args[1] instanceof Throwable failure) {
            Callbacks.run("okhttp.failure", () -> call.failed(failure));
            return handOn(method, args);
        }
        if (name.equals("equals") && arity == 1) {
            return proxy == args[0];
        }
        if (name.equals("hashCode") && arity == 0) {
            return System.identityHashCode(proxy);
        }
        return handOn(method, args);
    }

    private Object handOn(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            Throwable thrown = e.getCause();
            Callbacks.run("okhttp.callback", () -> call.end(thrown));
            throw thrown;
        }
    }
}
