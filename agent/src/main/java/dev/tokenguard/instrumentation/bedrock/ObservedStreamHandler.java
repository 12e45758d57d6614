package dev.tokenguard.instrumentation.bedrock;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.instrumentation.Callbacks;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Stands in for the app's stream response handler ({@code ConverseStreamResponseHandler},
 * {@code InvokeModelWithResponseStreamResponseHandler}) so that the agent sees the stream's events and its end
 * without the app noticing: the event publisher the SDK hands over is passed on mapped through an observer that
 * returns every event unchanged, and {@code complete} / {@code exceptionOccurred} charge the call before the
 * app's handler hears of them. The agent cannot link against the SDK's types, so the stand-in is a dynamic proxy
 * of the handler's interface, defined in the SDK's class loader; every method goes on to the app's handler.
 */
final class ObservedStreamHandler implements InvocationHandler {
    private final Object handler;
    private final BedrockStream stream;
    private final Consumer<Throwable> ended;
    private final Method map;
    private final Method doAfterOnCancel;

    private ObservedStreamHandler(Object handler, BedrockStream stream, Consumer<Throwable> ended, Method map,
                                  Method doAfterOnCancel) {
        this.handler = handler;
        this.stream = stream;
        this.ended = ended;
        this.map = map;
        this.doAfterOnCancel = doAfterOnCancel;
    }

    /** A stand-in for {@code handler} of the interface {@code typeName}, or null when one cannot be made. */
    static Object wrap(Object handler, String typeName, BedrockStream stream, Consumer<Throwable> ended) {
        try {
            ClassLoader loader = handler.getClass().getClassLoader();
            Class<?> type = Class.forName(typeName, false, loader);
            if (!type.isInstance(handler)) {
                return null;
            }
            Class<?> publisher = Class.forName(BedrockPlugin.SDK_PUBLISHER, false, type.getClassLoader());
            Method map = publisher.getMethod("map", Function.class);
            Method doAfterOnCancel = publisher.getMethod("doAfterOnCancel", Runnable.class);
            return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                    new ObservedStreamHandler(handler, stream, ended, map, doAfterOnCancel));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            AgentLog.failure("bedrock.stream-handler", e);
            return null;
        }
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        int count = args == null ? 0 : args.length;
        if (name.equals("equals") && count == 1) {
            return proxy == args[0];
        }
        if (name.equals("onEventStream") && count == 1 && args[0] != null) {
            args = new Object[] {observed(args[0])};
        } else if (name.equals("complete") && count == 0) {
            Callbacks.run("bedrock.stream-complete", () -> ended.accept(null));
        } else if (name.equals("exceptionOccurred") && count == 1) {
            Throwable error = args[0] instanceof Throwable t ? t : new IllegalStateException("stream failed");
            Callbacks.run("bedrock.stream-failed", () -> ended.accept(error));
        }
        try {
            method.setAccessible(true);
            return method.invoke(handler, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** The SDK's publisher, mapped through the observer, and ending the call when the app cancels it. */
    private Object observed(Object publisher) {
        return Callbacks.get("bedrock.stream-events", () -> {
            try {
                Function<Object, Object> observe = event -> {
                    Callbacks.run("bedrock.stream-event", () -> stream.onEvent(event));
                    return event;
                };
                Object mapped = map.invoke(publisher, observe);
                Runnable cancelled = () -> Callbacks.run("bedrock.stream-cancel",
                        () -> ended.accept(null));
                return doAfterOnCancel.invoke(mapped, cancelled);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }, publisher);
    }
}
