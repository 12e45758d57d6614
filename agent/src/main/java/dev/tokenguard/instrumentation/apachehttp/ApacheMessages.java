package dev.tokenguard.instrumentation.apachehttp;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.tokenguard.instrumentation.apachehttp.ApacheHttpClientPlugin.CORE;

/**
 * HttpCore 5's message interfaces of one class loader, called by reflection: the agent never links
 * against HttpClient, which may be any 5.x version in any loader. The methods are looked up on the
 * public interfaces ({@code HttpRequest}, {@code HttpEntityContainer}, {@code HttpEntity}, ...), so the
 * client's own non-public classes are called through them.
 */
final class ApacheMessages {
    private static final ClassValue<ApacheMessages> BY_CLIENT = new ClassValue<>() {
        @Override
        protected ApacheMessages computeValue(Class<?> type) {
            try {
                return new ApacheMessages(type.getClassLoader());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("HttpClient 5 not readable: " + e, e);
            }
        }
    };

    final Class<?> entityType;
    private final Method getMethod;
    private final Method getPath;
    private final Method getUri;
    private final Method getHeaders;
    private final Method name;
    private final Method value;
    private final Method toUri;
    private final Method getEntity;
    private final Method setEntity;
    private final Method getCode;
    private final Method isRepeatable;
    private final Method getContent;
    private final Method writeTo;
    private final Method getContentLength;

    private ApacheMessages(ClassLoader loader) throws ReflectiveOperationException {
        Class<?> request = Class.forName(CORE + "HttpRequest", false, loader);
        Class<?> headers = Class.forName(CORE + "MessageHeaders", false, loader);
        Class<?> pair = Class.forName(CORE + "NameValuePair", false, loader);
        Class<?> container = Class.forName(CORE + "HttpEntityContainer", false, loader);
        Class<?> response = Class.forName(CORE + "HttpResponse", false, loader);
        Class<?> details = Class.forName(CORE + "EntityDetails", false, loader);
        entityType = Class.forName(CORE + "HttpEntity", false, loader);
        getMethod = request.getMethod("getMethod");
        getPath = request.getMethod("getPath");
        getUri = request.getMethod("getUri");
        getHeaders = headers.getMethod("getHeaders");
        name = pair.getMethod("getName");
        value = pair.getMethod("getValue");
        toUri = Class.forName(CORE + "HttpHost", false, loader).getMethod("toURI");
        getEntity = container.getMethod("getEntity");
        setEntity = container.getMethod("setEntity", entityType);
        getCode = response.getMethod("getCode");
        isRepeatable = entityType.getMethod("isRepeatable");
        getContent = entityType.getMethod("getContent");
        writeTo = entityType.getMethod("writeTo", OutputStream.class);
        getContentLength = details.getMethod("getContentLength");
    }

    /** The interfaces of the HttpClient whose {@code doExecute} runs on {@code client}. */
    static ApacheMessages of(Object client) {
        return BY_CLIENT.get(client.getClass());
    }

    String method(Object request) {
        return (String) call(getMethod, request);
    }

    /**
     * The request's absolute URI: the target host the client resolved and the request's path, or the
     * request's own URI when no host was given; null when neither makes one.
     */
    URI uri(Object host, Object request) {
        try {
            if (host != null) {
                String path = (String) call(getPath, request);
                return URI.create(call(toUri, host) + (path == null ? "/" : path.startsWith("/") ? path : "/" + path));
            }
            return (URI) getUri.invoke(request);
        } catch (IllegalArgumentException | ReflectiveOperationException e) {
            return null;
        }
    }

    /** Header names and values; names as sent (a header's value is never logged). */
    Map<String, List<String>> headers(Object message) {
        Object[] all = (Object[]) call(getHeaders, message);
        Map<String, List<String>> map = new LinkedHashMap<>();
        if (all != null) {
            for (Object header : all) {
                map.computeIfAbsent((String) call(name, header), k -> new ArrayList<>()).add((String) call(value, header));
            }
        }
        return map;
    }

    Object entity(Object container) {
        return call(getEntity, container);
    }

    void setEntity(Object container, Object entity) {
        call(setEntity, container, entity);
    }

    int code(Object response) {
        return (Integer) call(getCode, response);
    }

    boolean repeatable(Object entity) {
        return Boolean.TRUE.equals(call(isRepeatable, entity));
    }

    long contentLength(Object entity) {
        return (Long) call(getContentLength, entity);
    }

    /** The bytes an entity writes (a repeatable one) or holds (any other, which this reads up). */
    byte[] read(Object entity) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (repeatable(entity)) {
                writeTo.invoke(entity, out);
            } else {
                try (InputStream in = (InputStream) getContent.invoke(entity)) {
                    if (in != null) {
                        in.transferTo(out);
                    }
                }
            }
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof java.io.IOException io) {
                throw io;
            }
            throw new IllegalStateException("HttpClient entity unreadable: " + e.getCause(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    InputStream content(Object entity) throws java.io.IOException {
        try {
            return (InputStream) getContent.invoke(entity);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof java.io.IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object call(Method method, Object target, Object... args) {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("HttpClient " + method.getName() + " failed: " + cause, cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
