package dev.tokenguard.agent;

import dev.tokenguard.otel.ParentSpan;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Reads the application's current span, so that an LLM call's span joins the app's trace. The app
 * may use the OpenTelemetry API itself (its own classes, found through the thread's context class
 * loader) or run the OpenTelemetry Java agent (whose API the app's calls are bridged to, and whose
 * own copy lives in the bootstrap loader). Everything is read reflectively: the agent's own,
 * relocated OpenTelemetry classes are not the app's.
 */
final class AppTraceContext {
    /*
     * The class names are assembled at run time: the agent jar's build relocates every string
     * constant that starts with the OpenTelemetry package, and these must stay the app's.
     */
    private static final String API = String.join(".", "io", "opentelemetry", "api", "trace", "Span");
    private static final String AGENT_API = String.join(".", "io", "opentelemetry", "javaagent", "shaded", "io",
            "opentelemetry", "api", "trace", "Span");

    /** The reflective view of one copy of the API. */
    private record Api(Method current, Method spanContext, Method isValid, Method traceId, Method spanId,
                       Method traceFlags, Method asByte, Method isRemote) {
    }

    private static final Api NONE = new Api(null, null, null, null, null, null, null, null);
    private final Map<ClassLoader, Api> apis = new WeakHashMap<>();
    private volatile Api bootstrapApi;

    /** The app's current span as a parent, or null when there is none (or no OpenTelemetry). */
    ParentSpan current() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        ParentSpan parent = read(apiOf(loader == null ? ClassLoader.getSystemClassLoader() : loader));
        return parent != null ? parent : read(bootstrapApi());
    }

    private Api apiOf(ClassLoader loader) {
        synchronized (apis) {
            Api api = apis.get(loader);
            if (api == null) {
                api = lookup(API, loader);
                apis.put(loader, api);
            }
            return api;
        }
    }

    private Api bootstrapApi() {
        Api api = bootstrapApi;
        if (api == null) {
            api = lookup(AGENT_API, null);
            bootstrapApi = api;
        }
        return api;
    }

    private static Api lookup(String spanClass, ClassLoader loader) {
        try {
            Class<?> span = Class.forName(spanClass, false, loader);
            Class<?> context = Class.forName(spanClass + "Context", false, loader);
            Class<?> flags = Class.forName(spanClass.substring(0, spanClass.length() - "Span".length())
                    + "TraceFlags", false, loader);
            return new Api(span.getMethod("current"), span.getMethod("getSpanContext"), context.getMethod("isValid"),
                    context.getMethod("getTraceId"), context.getMethod("getSpanId"),
                    context.getMethod("getTraceFlags"), flags.getMethod("asByte"), context.getMethod("isRemote"));
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return NONE;
        }
    }

    private static ParentSpan read(Api api) {
        if (api == NONE || api.current() == null) {
            return null;
        }
        try {
            Object span = api.current().invoke(null);
            Object context = span == null ? null : api.spanContext().invoke(span);
            if (context == null || !Boolean.TRUE.equals(api.isValid().invoke(context))) {
                return null;
            }
            byte flags = (Byte) api.asByte().invoke(api.traceFlags().invoke(context));
            return new ParentSpan((String) api.traceId().invoke(context), (String) api.spanId().invoke(context),
                    flags, Boolean.TRUE.equals(api.isRemote().invoke(context)));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
