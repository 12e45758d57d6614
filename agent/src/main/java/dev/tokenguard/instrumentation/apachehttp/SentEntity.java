package dev.tokenguard.instrumentation.apachehttp;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * A request entity (a JDK proxy of the app's {@code HttpEntity} interface) that sends the bytes the
 * agent read: the app's own, where its entity could be read only once, or the copy asking for stream
 * usage. It is repeatable, so the client may send it again on a retry; its content type, encoding,
 * chunking and trailers are the app's entity's.
 */
final class SentEntity implements InvocationHandler {
    private final Object original;
    private final byte[] bytes;

    private SentEntity(Object original, byte[] bytes) {
        this.original = original;
        this.bytes = bytes;
    }

    /** An entity of {@code messages}' HttpClient that sends {@code bytes} and otherwise looks like {@code original}. */
    static Object of(ApacheMessages messages, Object original, byte[] bytes) {
        Class<?> type = messages.entityType;
        return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, new SentEntity(original, bytes));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        int arity = args == null ? 0 : args.length;
        switch (method.getName()) {
            case "isRepeatable":
                return true;
            case "isStreaming":
                return false;
            case "getContentLength":
                return (long) bytes.length;
            case "getContent":
                return new ByteArrayInputStream(bytes);
            case "writeTo":
                if (arity == 1) {
                    ((OutputStream) args[0]).write(bytes);
                    return null;
                }
                break;
            case "close":
                return null; // nothing held; the app's entity is the app's to close
            case "equals":
                return arity == 1 && proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "[Content-Length: " + bytes.length + "]";
            default:
                break;
        }
        try {
            return method.invoke(original, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
