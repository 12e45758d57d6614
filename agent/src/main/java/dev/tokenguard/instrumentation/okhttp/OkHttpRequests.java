package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.instrumentation.SdkObjects;

import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okhttp;
import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okio;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * Reads an OkHttp {@code Request} (method, URL, headers, body bytes) and, where the agent changes the
 * body, puts a copy with the new body into the call, all by reflection in the application's class
 * loader: the agent never links against OkHttp.
 */
final class OkHttpRequests {
    /**
     * Whether this JVM lets the agent replace a started call's request. {@code RealCall} keeps it in a
     * final field; JDKs from 26 on warn (and later refuse) when a final field is set by reflection, so
     * there the agent leaves the request as the app built it.
     */
    static final boolean CAN_REPLACE = Runtime.version().feature() < 26;

    private OkHttpRequests() {
    }

    /** The request of a {@code RealCall}. */
    static Object of(Object call) {
        return SdkObjects.get(call, "request");
    }

    static String method(Object request) {
        return SdkObjects.text(request, "method");
    }

    /** The request's URL as a {@link URI}, or null when OkHttp cannot give one. */
    static URI uri(Object request) {
        Object uri = SdkObjects.get(SdkObjects.get(request, "url"), "uri");
        return uri instanceof URI u ? u : null;
    }

    /** Header names and values, or null. */
    @SuppressWarnings("unchecked")
    static Map<String, List<String>> headers(Object request) {
        Object map = SdkObjects.get(SdkObjects.get(request, "headers"), "toMultimap");
        return map instanceof Map<?, ?> m ? (Map<String, List<String>>) m : null;
    }

    /**
     * The bytes the request body writes, or null when there is none or it may be written only once
     * (a one-shot or duplex body belongs to the app's single write).
     */
    static byte[] body(Object request) {
        Object body = SdkObjects.get(request, "body");
        if (body == null || Boolean.TRUE.equals(SdkObjects.get(body, "isOneShot"))
                || Boolean.TRUE.equals(SdkObjects.get(body, "isDuplex"))) {
            return null;
        }
        try {
            ClassLoader loader = body.getClass().getClassLoader();
            Class<?> bufferType = Class.forName(okio("Buffer"), false, loader);
            Object buffer = bufferType.getConstructor().newInstance();
            Class<?> requestBody = Class.forName(okhttp("RequestBody"), false, loader);
            requestBody.getMethod("writeTo", Class.forName(okio("BufferedSink"), false, loader)).invoke(body, buffer);
            return (byte[]) bufferType.getMethod("readByteArray").invoke(buffer);
        } catch (InvocationTargetException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("OkHttp request body unreadable: " + e, e);
        }
    }

    /**
     * Makes {@code call} send {@code body} instead of its request's body (same method, URL, headers and
     * content type). Returns whether it could; the call is unchanged when not.
     */
    static boolean replaceBody(Object call, Object request, byte[] body) {
        if (!CAN_REPLACE) {
            return false;
        }
        try {
            ClassLoader loader = request.getClass().getClassLoader();
            Class<?> requestBody = Class.forName(okhttp("RequestBody"), false, loader);
            Class<?> mediaType = Class.forName(okhttp("MediaType"), false, loader);
            Object old = SdkObjects.get(request, "body");
            Object type = SdkObjects.get(old, "contentType");
            Object newBody = requestBody.getMethod("create", byte[].class, mediaType).invoke(null, body, type);
            Object builder = request.getClass().getMethod("newBuilder").invoke(request);
            builder.getClass().getMethod("method", String.class, requestBody).invoke(builder, method(request), newBody);
            Object replaced = builder.getClass().getMethod("build").invoke(builder);
            Field field = originalRequest(call.getClass());
            field.set(call, replaced);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private static Field originalRequest(Class<?> type) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField("originalRequest");
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // look further up
            }
        }
        throw new NoSuchFieldException(type.getName() + ".originalRequest");
    }
}
