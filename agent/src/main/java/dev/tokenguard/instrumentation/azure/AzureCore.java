package dev.tokenguard.instrumentation.azure;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The few azure-core and Reactor members the plugin calls, looked up once per class loader. The agent cannot link
 * against them (the SDK lives in the app's class loader, in any version), so they are called reflectively; every
 * one of them is public API of azure-core ({@code BinaryData}, {@code Response}, {@code SimpleResponse}) or Reactor
 * ({@code Flux}, {@code Mono}).
 */
final class AzureCore {
    static final String BINARY_DATA = "com.azure.core.util.BinaryData";
    static final String RESPONSE = "com.azure.core.http.rest.Response";
    static final String SIMPLE_RESPONSE = "com.azure.core.http.rest.SimpleResponse";
    static final String FLUX = "reactor.core.publisher.Flux";
    static final String MONO = "reactor.core.publisher.Mono";

    private static final ClassValue<AzureCore> BY_CLIENT = new ClassValue<>() {
        @Override
        protected AzureCore computeValue(Class<?> client) {
            try {
                return new AzureCore(client.getClassLoader());
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                return null;
            }
        }
    };

    private final Method toBytes;
    private final Method isReplayable;
    private final Method toFluxByteBuffer;
    private final Method fromBytes;
    private final Method fromFlux;
    private final Method getValue;
    private final Method getStatusCode;
    private final Constructor<?> simpleResponse;
    private final Method fluxMap;
    private final Method fluxFilter;
    private final Method fluxConcatWith;
    private final Method fluxDoOnComplete;
    private final Method fluxDoOnError;
    private final Method fluxDoOnCancel;
    private final Method monoFromSupplier;
    private final Method monoMap;
    private final Method monoDoOnError;
    private final Method monoDoOnCancel;
    private final Method monoBlock;

    private AzureCore(ClassLoader loader) throws ReflectiveOperationException {
        Class<?> binaryData = Class.forName(BINARY_DATA, false, loader);
        Class<?> response = Class.forName(RESPONSE, false, loader);
        Class<?> flux = Class.forName(FLUX, false, loader);
        Class<?> mono = Class.forName(MONO, false, loader);
        Class<?> publisher = Class.forName("org.reactivestreams.Publisher", false, loader);
        toBytes = binaryData.getMethod("toBytes");
        isReplayable = binaryData.getMethod("isReplayable");
        toFluxByteBuffer = binaryData.getMethod("toFluxByteBuffer");
        fromBytes = binaryData.getMethod("fromBytes", byte[].class);
        fromFlux = binaryData.getMethod("fromFlux", flux, Long.class, boolean.class);
        getValue = response.getMethod("getValue");
        getStatusCode = response.getMethod("getStatusCode");
        simpleResponse = Class.forName(SIMPLE_RESPONSE, false, loader).getConstructor(response, Object.class);
        fluxMap = flux.getMethod("map", Function.class);
        fluxFilter = flux.getMethod("filter", Predicate.class);
        fluxConcatWith = flux.getMethod("concatWith", publisher);
        fluxDoOnComplete = flux.getMethod("doOnComplete", Runnable.class);
        fluxDoOnError = flux.getMethod("doOnError", Consumer.class);
        fluxDoOnCancel = flux.getMethod("doOnCancel", Runnable.class);
        monoFromSupplier = mono.getMethod("fromSupplier", Supplier.class);
        monoMap = mono.getMethod("map", Function.class);
        monoDoOnError = mono.getMethod("doOnError", Consumer.class);
        monoDoOnCancel = mono.getMethod("doOnCancel", Runnable.class);
        monoBlock = mono.getMethod("block");
    }

    /** The members as the class loader of {@code client} (an SDK object) sees them, or null when one is missing. */
    static AzureCore of(Object client) {
        return client == null ? null : BY_CLIENT.get(client.getClass());
    }

    /** The bytes of a request body, or null when it is not a {@code BinaryData} or cannot be read. */
    byte[] bytes(Object binaryData) {
        if (binaryData == null || !toBytes.getDeclaringClass().isInstance(binaryData)) {
            return null;
        }
        Object bytes = call(toBytes, binaryData);
        return bytes instanceof byte[] b ? b : null;
    }

    Object binaryData(byte[] bytes) {
        return call(fromBytes, null, (Object) bytes);
    }

    boolean replayable(Object binaryData) {
        return Boolean.TRUE.equals(call(isReplayable, binaryData));
    }

    Object fluxOf(Object binaryData) {
        return call(toFluxByteBuffer, binaryData);
    }

    /** A {@code BinaryData} that reads {@code flux} lazily, when the SDK reads the body. */
    Object binaryDataOf(Object flux) {
        return call(monoBlock, call(fromFlux, null, flux, null, false));
    }

    int status(Object response) {
        return call(getStatusCode, response) instanceof Integer code ? code : -1;
    }

    Object value(Object response) {
        return call(getValue, response);
    }

    boolean isResponse(Object value) {
        return getValue.getDeclaringClass().isInstance(value);
    }

    boolean isMono(Object value) {
        return monoMap.getDeclaringClass().isInstance(value);
    }

    /** {@code response} with another body. */
    Object withValue(Object response, Object value) {
        try {
            return simpleResponse.newInstance(response, value);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code flux} of byte buffers as the app reads it: each buffer mapped by {@code each} (empty results dropped),
     * then what {@code last} gives when the source completes (if not null), with the end, failure or cancellation
     * reported.
     */
    Object observeFlux(Object flux, Function<ByteBuffer, ByteBuffer> each, Supplier<ByteBuffer> last,
                       Runnable completed, Consumer<Throwable> failed, Runnable cancelled) {
        Predicate<ByteBuffer> nonEmpty = ByteBuffer::hasRemaining;
        Object mapped = call(fluxFilter, call(fluxMap, flux, each), nonEmpty);
        Object withLast = call(fluxConcatWith, mapped, call(monoFromSupplier, null, last));
        return call(fluxDoOnCancel, call(fluxDoOnError, call(fluxDoOnComplete, withLast, completed), failed),
                cancelled);
    }

    /** {@code mono} with its value mapped by {@code each}, and its failure or cancellation reported. */
    Object observeMono(Object mono, Function<Object, Object> each, Consumer<Throwable> failed, Runnable cancelled) {
        return call(monoDoOnCancel, call(monoDoOnError, call(monoMap, mono, each), failed), cancelled);
    }

    private static Object call(Method method, Object target, Object... args) {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
