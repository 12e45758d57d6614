package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okhttp;
import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okio;

import java.lang.reflect.Proxy;

/**
 * Puts a governed call's watch on an OkHttp {@code Response}: its status goes to the call, and its
 * body is replaced by one reading through an {@link ObservedSource}, so that the call sees every byte
 * the app reads and ends when the body ends or is closed. {@code ResponseBody} is an abstract class,
 * so the new body is OkHttp's own {@code ResponseBody.create(BufferedSource, MediaType, long)} over
 * {@code Okio.buffer(proxy)}; all by reflection in the response's class loader. SDKs that send over OkHttp (the
 * Google GenAI SDK) put the same watch on the responses they return.
 */
public final class OkHttpResponses {
    private OkHttpResponses() {
    }

    /**
     * The response the app gets instead of {@code response}. Ends the call when no watch can be put
     * on the body, and then throws, so that the failure is reported and the app gets the response as
     * it was.
     */
    public static Object observe(Object response, HttpLlmCall call) {
        try {
            Number code = SdkObjects.number(response, "code");
            if (code != null) {
                call.status(code.intValue());
            }
            Object body = SdkObjects.get(response, "body");
            if (body == null) {
                call.end(null);
                return response;
            }
            ClassLoader loader = response.getClass().getClassLoader();
            Class<?> sourceType = Class.forName(okio("Source"), false, loader);
            Class<?> bufferedSource = Class.forName(okio("BufferedSource"), false, loader);
            Class<?> mediaType = Class.forName(okhttp("MediaType"), false, loader);
            Class<?> responseBody = Class.forName(okhttp("ResponseBody"), false, loader);
            Object source = responseBody.getMethod("source").invoke(body);
            Object contentType = responseBody.getMethod("contentType").invoke(body);
            long length = (Long) responseBody.getMethod("contentLength").invoke(body);
            Object observed = Proxy.newProxyInstance(loader, new Class<?>[] {sourceType},
                    new ObservedSource(source, call, loader));
            Object buffered = Class.forName(okio("Okio"), false, loader).getMethod("buffer", sourceType)
                    .invoke(null, observed);
            // a hidden usage chunk makes the body shorter than the server said
            long newLength = call.bodyChanged() ? -1L : length;
            Object newBody = responseBody.getMethod("create", bufferedSource, mediaType, long.class)
                    .invoke(null, buffered, contentType, newLength);
            Object builder = response.getClass().getMethod("newBuilder").invoke(response);
            builder.getClass().getMethod("body", responseBody).invoke(builder, newBody);
            return builder.getClass().getMethod("build").invoke(builder);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            call.end(null);
            throw new IllegalStateException("OkHttp response not observable: " + e, e);
        }
    }
}
