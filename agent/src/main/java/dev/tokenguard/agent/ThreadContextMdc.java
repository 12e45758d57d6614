package dev.tokenguard.agent;

import dev.tokenguard.budget.MdcSource;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Reads the calling thread's MDC value: SLF4J's {@code MDC} (Logback and every SLF4J binding)
 * first, then Log4j 2's {@code ThreadContext}, as the application's class loader (the thread's
 * context class loader, else the system class loader) sees them. Only used for {@code mdc:}
 * scopes, whose application uses its MDC already.
 */
final class ThreadContextMdc implements MdcSource {
    private static final String[][] SOURCES = {
            {"org.slf4j.MDC", "get"},
            {"org.apache.logging.log4j.ThreadContext", "get"},
    };
    private static final Method[] NONE = new Method[0];
    private final Map<ClassLoader, Method[]> readers = new WeakHashMap<>();

    @Override
    public String get(String key) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = ClassLoader.getSystemClassLoader();
        }
        for (Method reader : readersFor(loader)) {
            try {
                Object value = reader.invoke(null, key);
                if (value instanceof String s && !s.isEmpty()) {
                    return s;
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                // that framework cannot answer: try the next
            }
        }
        return null;
    }

    private Method[] readersFor(ClassLoader loader) {
        synchronized (readers) {
            Method[] found = readers.get(loader);
            if (found == null) {
                found = lookup(loader);
                readers.put(loader, found);
            }
            return found;
        }
    }

    private static Method[] lookup(ClassLoader loader) {
        java.util.List<Method> found = new java.util.ArrayList<>(2);
        for (String[] source : SOURCES) {
            try {
                found.add(Class.forName(source[0], false, loader).getMethod(source[1], String.class));
            } catch (ReflectiveOperationException | LinkageError e) {
                // not on this class path
            }
        }
        return found.isEmpty() ? NONE : found.toArray(NONE);
    }
}
