package dev.tokenguard.instrumentation.apachehttp;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.ObservedBodyStream;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * The response entity the app gets (a JDK proxy of its {@code HttpEntity} interface): its content is
 * read through an {@link ObservedBodyStream}, so the governed call sees every byte the app reads, a
 * usage-only chunk the agent asked for is left out, and the call ends when the body ends or the entity
 * or its stream is closed. {@code writeTo} and {@code EntityUtils} read the same stream.
 */
final class ObservedEntity implements InvocationHandler {
    private final ApacheMessages messages;
    private final Object delegate;
    private final HttpLlmCall call;
    private InputStream raw;
    private ObservedBodyStream observed;

    private ObservedEntity(ApacheMessages messages, Object delegate, HttpLlmCall call) {
        this.messages = messages;
        this.delegate = delegate;
        this.call = call;
    }

    static Object of(ApacheMessages messages, Object delegate, HttpLlmCall call) {
        Class<?> type = messages.entityType;
        return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                new ObservedEntity(messages, delegate, call));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        int arity = args == null ? 0 : args.length;
        switch (method.getName()) {
            case "getContent":
                if (arity == 0) {
                    return content();
                }
                break;
            case "writeTo":
                if (arity == 1) {
                    try (InputStream in = content()) {
                        if (in != null) {
                            in.transferTo((OutputStream) args[0]);
                        }
                    }
                    return null;
                }
                break;
            case "getContentLength":
                if (arity == 0 && call.bodyChanged()) {
                    return -1L; // a hidden usage chunk makes the body shorter than the server said
                }
                break;
            case "close":
                if (arity == 0) {
                    try {
                        return invokeOn(method, args);
                    } finally {
                        Callbacks.run("apache-httpclient5.close", () -> call.end(null));
                    }
                }
                break;
            case "equals":
                return arity == 1 && proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return String.valueOf(delegate);
            default:
                break;
        }
        return invokeOn(method, args);
    }

    /** The observed stream over the entity's content; the same one while the entity hands out the same stream. */
    private synchronized InputStream content() throws java.io.IOException {
        InputStream in = messages.content(delegate);
        if (in == null) {
            Callbacks.run("apache-httpclient5.body", () -> call.end(null));
            return null;
        }
        if (in != raw) {
            raw = in;
            observed = new ObservedBodyStream(in, call);
        }
        return observed;
    }

    private Object invokeOn(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
