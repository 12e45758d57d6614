package dev.tokenguard.instrumentation.ollama;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * The request bodies ollama4j sends, as it writes them: through the SDK's own {@code Utils.getObjectMapper()}, the
 * mapper its {@code getBodyPublisher()} and {@code embed} use, so the bytes the usage reader sees are the request's
 * wire JSON. The agent cannot link against the SDK (it lives in the app's class loader, in any version), so the
 * mapper is found per class loader and called reflectively.
 */
final class OllamaJson {
    private static final ClassValue<Writer> BY_CLASS = new ClassValue<>() {
        @Override
        protected Writer computeValue(Class<?> type) {
            try {
                Class<?> utils = Class.forName(Ollama4jPlugin.UTILS, false, type.getClassLoader());
                Object mapper = utils.getMethod("getObjectMapper").invoke(null);
                return new Writer(mapper, mapper.getClass().getMethod("writeValueAsBytes", Object.class));
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                return null;
            }
        }
    };

    private OllamaJson() {
    }

    /** The JSON the SDK sends for {@code request}, or null when it cannot be written. */
    static byte[] bytes(Object request) {
        if (request == null) {
            return null;
        }
        Writer writer = BY_CLASS.get(request.getClass());
        if (writer == null) {
            return null;
        }
        try {
            return writer.write.invoke(writer.mapper, request) instanceof byte[] b ? b : null;
        } catch (InvocationTargetException | IllegalAccessException e) {
            return null;
        }
    }

    /** The {@code host} an {@code Ollama} client was built with (it has no accessor for it), or null. */
    static String host(Object ollama) {
        for (Class<?> type = ollama.getClass(); type != null; type = type.getSuperclass()) {
            try {
                Field field = type.getDeclaredField("host");
                return field.trySetAccessible() && field.get(ollama) instanceof String host ? host : null;
            } catch (NoSuchFieldException e) {
                // a subclass of the app's: look further up
            } catch (IllegalAccessException | RuntimeException e) {
                return null;
            }
        }
        return null;
    }

    private record Writer(Object mapper, Method write) {
    }
}
