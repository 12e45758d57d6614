package dev.tokenguard.instrumentation;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads SDK objects through their public accessors. The agent's classes cannot link against SDK
 * classes (an SDK may live in any class loader and any version), so response and request objects
 * are read reflectively, with the looked-up methods cached per class. Every read is lenient: a
 * missing accessor, an accessor that throws (Kotlin SDKs throw for absent required fields) or an
 * empty {@link Optional} all read as {@code null}.
 */
public final class SdkObjects {
    private static final Method MISSING;
    /** Passed to every accessor, so that no empty argument array is made per read. */
    private static final Object[] NO_ARGUMENTS = {};
    /** The accessors of a string union's variants that {@link #text(Object)} tries, in order. */
    private static final String[] TEXT_VARIANTS = {"string", "chat", "only"};

    static {
        try {
            MISSING = Object.class.getMethod("hashCode");
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final ClassValue<Map<String, Method>> ACCESSORS = new ClassValue<>() {
        @Override
        protected Map<String, Method> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };

    private SdkObjects() {
    }

    /** {@code target.name()}, with an {@link Optional} unwrapped; null when absent or unreadable. */
    public static Object get(Object target, String name) {
        if (target == null) {
            return null;
        }
        Method method = accessor(target.getClass(), name);
        if (method == MISSING) {
            return null;
        }
        try {
            Object value = method.invoke(target, NO_ARGUMENTS);
            if (value instanceof Optional<?> optional) {
                return optional.orElse(null);
            }
            return value;
        } catch (InvocationTargetException | IllegalAccessException | RuntimeException e) {
            return null;
        }
    }

    /** Follows a chain of accessors, e.g. {@code path(chunk, "usage", "promptTokensDetails", "cachedTokens")}. */
    public static Object path(Object target, String... names) {
        Object current = target;
        for (String name : names) {
            current = get(current, name);
            if (current == null) {
                return null;
            }
        }
        return current;
    }

    /** A number read through a chain of accessors, or null. */
    public static Long number(Object target, String... names) {
        return asLong(path(target, names));
    }

    /** {@code target.name()} as a number, or null; the one-accessor form, with no argument array per read. */
    public static Long number(Object target, String name) {
        return asLong(get(target, name));
    }

    /** {@code target.first().second()} as a number, or null; the two-accessor form, with no argument array per read. */
    public static Long number(Object target, String first, String second) {
        Object value = get(target, first);
        return value == null ? null : asLong(get(value, second));
    }

    /** A {@code Long} as it is (an accessor's boxed result is not boxed again), another number as a long; else null. */
    private static Long asLong(Object value) {
        if (value instanceof Long l) {
            return l;
        }
        return value instanceof Number n ? n.longValue() : null;
    }

    /**
     * A string value: Strings as they are; SDK enums and string unions through their
     * {@code asString()} / {@code string()} accessors; null when none applies.
     */
    public static String text(Object value) {
        if (value == null || value instanceof String) {
            return (String) value;
        }
        if (value instanceof Optional<?> optional) {
            return text(optional.orElse(null));
        }
        Object s = get(value, "asString");
        if (s instanceof String str) {
            return str;
        }
        for (String variant : TEXT_VARIANTS) {
            Object inner = get(value, variant);
            if (inner != null && inner != value) {
                String t = text(inner);
                if (t != null) {
                    return t;
                }
            }
        }
        Object known = get(value, "known");
        return known instanceof Enum<?> e ? e.name().toLowerCase(java.util.Locale.ROOT) : null;
    }

    /** {@code target.name()} as a string (see {@link #text}). */
    public static String text(Object target, String name) {
        return text(get(target, name));
    }

    /** Whether the class loader of {@code anchor} can see {@code className}, without initialising it. */
    public static Class<?> load(Object anchor, String className) {
        try {
            return Class.forName(className, false, anchor.getClass().getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    private static Method accessor(Class<?> type, String name) {
        Map<String, Method> cache = ACCESSORS.get(type);
        Method method = cache.get(name);
        if (method == null) {
            method = lookup(type, name);
            cache.put(name, method);
        }
        return method;
    }

    private static Method lookup(Class<?> type, String name) {
        try {
            Method m = type.getMethod(name);
            if (m.getParameterCount() != 0) {
                return MISSING;
            }
            // public accessors of a non-public class (e.g. an anonymous implementation) need this
            m.trySetAccessible();
            return m;
        } catch (NoSuchMethodException | SecurityException e) {
            return MISSING;
        }
    }
}
