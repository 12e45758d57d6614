package dev.tokenguard.instrumentation.stainless;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.ObservedSpliterator;
import dev.tokenguard.instrumentation.StreamObserver;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Wraps the raw responses of the Stainless-generated SDKs (openai-java, anthropic-java), whose
 * {@code *ServiceImpl$WithRawResponseImpl} methods return an {@code HttpResponseFor<T>} that the
 * app (or the SDK's own non-raw layer) parses later, and whose streams are a
 * {@code StreamResponse<T>}. The wrappers are JDK proxies of the SDK's own interfaces, defined in
 * the SDK's class loader, so the agent never links against SDK classes; every method not
 * observed is passed through unchanged.
 */
public final class StainlessResponses {

    private StainlessResponses() {
    }

    /**
     * Wraps an {@code HttpResponseFor}: {@code parse()} goes through {@code listener}, a close
     * without a parse is reported.
     *
     * @param response      the SDK's raw response
     * @param interfaceName the SDK's {@code HttpResponseFor} interface, e.g. {@code com.openai.core.http.HttpResponseFor}
     * @return the wrapper, or {@code response} itself when it does not implement that interface
     */
    public static Object wrapResponse(Object response, String interfaceName, ResponseListener listener) {
        Class<?> type = interfaceOf(response, interfaceName);
        if (type == null) {
            return response;
        }
        return proxy(type, new ResponseHandler(response, listener));
    }

    /**
     * Per SDK interface, the constructor of its proxy class, as {@code (InvocationHandler)Object}; null where it
     * cannot be called directly (each proxy is then made by {@link Proxy#newProxyInstance}).
     */
    private static final ClassValue<MethodHandle> PROXY_CONSTRUCTORS = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                Class<?> proxyClass = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                        new NoCalls()).getClass();
                return MethodHandles.publicLookup().findConstructor(proxyClass,
                        MethodType.methodType(void.class, InvocationHandler.class))
                        .asType(MethodType.methodType(Object.class, InvocationHandler.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    /**
     * A proxy of {@code type} handled by {@code handler}: through the proxy class's constructor, found once per
     * interface (no interface array, argument array or proxy-class look-up per call).
     */
    private static Object proxy(Class<?> type, InvocationHandler handler) {
        MethodHandle constructor = PROXY_CONSTRUCTORS.get(type);
        if (constructor != null) {
            try {
                return (Object) constructor.invokeExact(handler);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e); // a proxy constructor declares no checked exception
            }
        }
        return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
    }

    /**
     * Wraps a {@code StreamResponse}: its {@code stream()} is observed element by element, and its
     * end, close or failure is reported once.
     */
    public static Object wrapStream(Object streamResponse, String interfaceName, StreamObserver observer) {
        Class<?> type = interfaceOf(streamResponse, interfaceName);
        if (type == null) {
            return streamResponse;
        }
        return proxy(type, new StreamHandler(streamResponse, observer));
    }

    /** Per response class, the interface found by name ({@link #NOT_FOUND} for none), so a class is searched once. */
    private static final ClassValue<java.util.concurrent.ConcurrentHashMap<String, Class<?>>> INTERFACES =
            new ClassValue<>() {
                @Override
                protected java.util.concurrent.ConcurrentHashMap<String, Class<?>> computeValue(Class<?> type) {
                    return new java.util.concurrent.ConcurrentHashMap<>(2);
                }
            };
    private static final Class<?> NOT_FOUND = Void.class;

    private static Class<?> interfaceOf(Object value, String interfaceName) {
        if (value == null) {
            return null;
        }
        var byName = INTERFACES.get(value.getClass());
        Class<?> found = byName.get(interfaceName);
        if (found == null) {
            found = searchInterface(value.getClass(), interfaceName);
            byName.put(interfaceName, found == null ? NOT_FOUND : found);
        }
        return found == NOT_FOUND ? null : found;
    }

    private static Class<?> searchInterface(Class<?> type, String interfaceName) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            Class<?> found = find(c.getInterfaces(), interfaceName);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static Class<?> find(Class<?>[] interfaces, String name) {
        for (Class<?> i : interfaces) {
            if (i.getName().equals(name)) {
                return i;
            }
            Class<?> inner = find(i.getInterfaces(), name);
            if (inner != null) {
                return inner;
            }
        }
        return null;
    }

    /**
     * A proxy handler that passes every call to its delegate except the no-argument methods it
     * observes; the proxy's identity stands for itself in {@code equals} and {@code hashCode}.
     */
    private abstract static class Delegating implements InvocationHandler {
        final Object delegate;

        Delegating(Object delegate) {
            this.delegate = delegate;
        }

        @Override
        public final Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            int arity = args == null ? 0 : args.length;
            if (arity == 0) {
                switch (method.getName()) {
                    case "hashCode":
                        return System.identityHashCode(proxy);
                    case "close":
                        return close(method);
                    default:
                        if (observes(method.getName())) {
                            return observed(method);
                        }
                }
            } else if (arity == 1 && method.getName().equals("equals")) {
                return proxy == args[0];
            }
            return call(method, args);
        }

        /** Whether the no-argument method {@code name} is observed. */
        abstract boolean observes(String name);

        /** The observed no-argument method was called. */
        abstract Object observed(Method method) throws Throwable;

        /** {@code close()} was called. */
        abstract Object close(Method method) throws Throwable;

        final Object call(Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(delegate, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    /**
     * Handles no call: given to a proxy made only for its class. (This and {@link Parsed} are classes of their own,
     * not lambdas, whose classes would be spun at run time in the first call.)
     */
    private static final class NoCalls implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            return null;
        }
    }

    /** What the listener makes of the parsed {@code value}. */
    private static final class Parsed implements Supplier<Object> {
        private final ResponseListener listener;
        private final Object value;

        Parsed(ResponseListener listener, Object value) {
            this.listener = listener;
            this.value = value;
        }

        @Override
        public Object get() {
            return listener.parsed(value);
        }
    }

    private static final class ResponseHandler extends Delegating {
        private final ResponseListener listener;
        private volatile boolean parsed;
        private volatile Object parsedValue;

        ResponseHandler(Object delegate, ResponseListener listener) {
            super(delegate);
            this.listener = listener;
        }

        @Override
        boolean observes(String name) {
            return name.equals("parse");
        }

        @Override
        Object close(Method method) throws Throwable {
            call(method, null);
            if (!parsed) {
                Callbacks.run("response.close", listener::closedUnparsed);
            }
            return null;
        }

        @Override
        Object observed(Method parse) throws Throwable {
            if (parsed) {
                return parsedValue;
            }
            synchronized (this) {
                if (parsed) {
                    return parsedValue;
                }
                Object value;
                try {
                    value = call(parse, null);
                } catch (Throwable error) {
                    Callbacks.run("response.parse-failed", () -> listener.parseFailed(error));
                    throw error;
                }
                Object result = Callbacks.get("response.parse", new Parsed(listener, value), value);
                parsedValue = result;
                parsed = true;
                return result;
            }
        }
    }

    private static final class StreamHandler extends Delegating {
        private final StreamObserver observer;
        private final AtomicBoolean ended = new AtomicBoolean();

        StreamHandler(Object delegate, StreamObserver observer) {
            super(delegate);
            this.observer = observer;
        }

        @Override
        boolean observes(String name) {
            return name.equals("stream");
        }

        @Override
        Object observed(Method stream) throws Throwable {
            return observe((Stream<?>) call(stream, null));
        }

        @Override
        Object close(Method method) throws Throwable {
            try {
                return call(method, null);
            } finally {
                if (ended.compareAndSet(false, true)) {
                    Callbacks.run("stream.close", () -> observer.onEnd(null));
                }
            }
        }

        private <T> Stream<T> observe(Stream<T> source) {
            ObservedSpliterator<T> observed = new ObservedSpliterator<>(source.spliterator(), observer, ended);
            return StreamSupport.stream(observed, source.isParallel()).onClose(source::close);
        }
    }
}
