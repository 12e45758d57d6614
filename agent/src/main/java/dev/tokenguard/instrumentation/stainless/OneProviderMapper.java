package dev.tokenguard.instrumentation.stainless;

import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

/**
 * Lets one serializer provider serve every write of a request body. A databind mapper makes a new serializer provider
 * for each {@code writeValue}, and a Stainless SDK's union serializers write each member with
 * {@code JsonGenerator.writeObject}, i.e. through the generator's codec, the mapper: a chat body of two messages
 * makes five providers. Here the generator's codec is a copy of the SDK's mapper, of a subclass made at run time
 * whose {@code _serializerProvider} returns the provider set in its field {@code reused}; that provider is made once
 * by the SDK's own mapper (its configuration, its serializer cache) and used again while nothing it keeps between
 * writes has changed:
 * <ul>
 *   <li>made again when the SDK mapper's configuration or the number of serializers in its cache has changed (a
 *       provider keeps a look-up table of the serializers there were when it was made);</li>
 *   <li>never used again once a write has touched its object ids or its per-call attributes (the state a fresh
 *       provider per write would not have carried over): {@link #keepsNoState} is false and that count is made
 *       again with the SDK's mapper.</li>
 * </ul>
 * The names of databind's classes are read from the SDK's mapper at run time, never written here.
 */
final class OneProviderMapper {
    private static final String FIELD = "reused";

    /** {@code new <subclass>(sdkMapper)}, as {@code (Object)Object}. */
    private final MethodHandle copy;
    /** {@code copy.reused = provider}, as {@code (Object, Object)void}. */
    private final MethodHandle setReused;
    /** {@code sdkMapper.getSerializerProviderInstance()}, as {@code (Object)Object}. */
    private final MethodHandle newProvider;
    /** {@code sdkMapper.getSerializationConfig()}, as {@code (Object)Object}. */
    private final MethodHandle config;
    /** {@code provider.cachedSerializersCount()}, as {@code (Object)int}. */
    private final MethodHandle cachedCount;
    /** The provider's {@code _seenObjectIds} and {@code _attributes}, as {@code (Object)Object}. */
    private final MethodHandle seenObjectIds;
    private final MethodHandle attributes;

    private OneProviderMapper(Object sdkMapper) throws ReflectiveOperationException {
        Class<?> mapperType = sdkMapper.getClass();
        Constructor<?> copyOf = mapperType.getDeclaredConstructor(mapperType);
        Method provides = declared(mapperType, "_serializerProvider", 1);
        if (Modifier.isFinal(mapperType.getModifiers()) || Modifier.isPrivate(copyOf.getModifiers())
                || Modifier.isFinal(provides.getModifiers()) || Modifier.isPrivate(provides.getModifiers())) {
            throw new NoSuchMethodException(mapperType.getName() + ": cannot be subclassed here");
        }
        String name = "dev.tokenguard.instrumentation.stainless.OneProviderMapper$" + mapperType.getSimpleName();
        Class<?> subclass = new Definer(mapperType.getClassLoader()).define(name, bytes(name, mapperType, provides));
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        copy = lookup.findConstructor(subclass, MethodType.methodType(void.class, mapperType))
                .asType(MethodType.methodType(Object.class, Object.class));
        setReused = lookup.findSetter(subclass, FIELD, provides.getReturnType())
                .asType(MethodType.methodType(void.class, Object.class, Object.class));
        newProvider = lookup.unreflect(mapperType.getMethod("getSerializerProviderInstance"))
                .asType(MethodType.methodType(Object.class, Object.class));
        config = lookup.unreflect(mapperType.getMethod("getSerializationConfig"))
                .asType(MethodType.methodType(Object.class, Object.class));
        Object provider = sdkMapper.getClass().getMethod("getSerializerProviderInstance").invoke(sdkMapper);
        Class<?> providerType = provider.getClass();
        cachedCount = lookup.unreflect(providerType.getMethod("cachedSerializersCount"))
                .asType(MethodType.methodType(int.class, Object.class));
        seenObjectIds = getter(providerType, "_seenObjectIds");
        attributes = getter(providerType, "_attributes");
    }

    /** The way to one provider per body for this SDK mapper, or null when its mapper or databind does not allow it. */
    static OneProviderMapper forMapper(Object sdkMapper) {
        try {
            OneProviderMapper m = new OneProviderMapper(sdkMapper);
            m.copy(sdkMapper); // made once here: a mapper that cannot be copied fails now, not on a call
            return m;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        } catch (Throwable e) {
            if (e instanceof VirtualMachineError v && !(e instanceof StackOverflowError)) {
                throw v;
            }
            return null;
        }
    }

    /** A copy of the SDK's mapper whose writes use the provider last given to {@link #use}. */
    Object copy(Object sdkMapper) throws Throwable {
        return (Object) copy.invokeExact(sdkMapper);
    }

    /** One copy's provider and what it was made from; kept with the copy, used by one thread at a time. */
    static final class Provider {
        Object provider;
        Object config;
        int cached;
        Object attributes;
    }

    /**
     * Makes {@code copy}'s writes use {@code p}'s provider, first made again if the SDK mapper's configuration or
     * serializer cache changed since it was made (or if there is none).
     */
    void use(Object sdkMapper, Object copy, Provider p) throws Throwable {
        Object now = (Object) config.invokeExact(sdkMapper);
        if (p.provider == null || p.config != now || (int) cachedCount.invokeExact(p.provider) != p.cached) {
            p.provider = (Object) newProvider.invokeExact(sdkMapper);
            p.config = now;
            p.cached = (int) cachedCount.invokeExact(p.provider);
            p.attributes = (Object) attributes.invokeExact(p.provider);
            setReused.invokeExact(copy, p.provider);
        }
    }

    /** Whether the last write left {@code p}'s provider as a fresh one would be: no object ids, the same attributes. */
    boolean keepsNoState(Provider p) throws Throwable {
        return (Object) seenObjectIds.invokeExact(p.provider) == null
                && (Object) attributes.invokeExact(p.provider) == p.attributes;
    }

    private static Method declared(Class<?> type, String name, int parameters) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == parameters) {
                    return m;
                }
            }
        }
        throw new NoSuchMethodException(type.getName() + "." + name);
    }

    private static MethodHandle getter(Class<?> type, String name) throws ReflectiveOperationException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.getName().equals(name)) {
                    f.setAccessible(true);
                    return MethodHandles.lookup().unreflectGetter(f)
                            .asType(MethodType.methodType(Object.class, Object.class));
                }
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }

    /**
     * {@code public class <name> extends <mapper> { public <provider> reused; public <name>(<mapper> src) {
     * super(src); } protected <provider> _serializerProvider(<config> c) { return reused; } }}
     */
    private static byte[] bytes(String name, Class<?> mapperType, Method provides) {
        String internal = name.replace('.', '/');
        String superName = Type.getInternalName(mapperType);
        String providerDescriptor = Type.getDescriptor(provides.getReturnType());
        ClassWriter w = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        w.visit(Opcodes.V11, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER | Opcodes.ACC_SYNTHETIC, internal, null, superName,
                null);
        w.visitField(Opcodes.ACC_PUBLIC, FIELD, providerDescriptor, null, null).visitEnd();
        String copyDescriptor = "(" + Type.getDescriptor(mapperType) + ")V";
        MethodVisitor init = w.visitMethod(Opcodes.ACC_PUBLIC, "<init>", copyDescriptor, null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitVarInsn(Opcodes.ALOAD, 1);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, superName, "<init>", copyDescriptor, false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor get = w.visitMethod(Opcodes.ACC_PROTECTED, provides.getName(), Type.getMethodDescriptor(provides),
                null, null);
        get.visitCode();
        get.visitVarInsn(Opcodes.ALOAD, 0);
        get.visitFieldInsn(Opcodes.GETFIELD, internal, FIELD, providerDescriptor);
        get.visitInsn(Opcodes.ARETURN);
        get.visitMaxs(0, 0);
        get.visitEnd();
        w.visitEnd();
        return w.toByteArray();
    }

    /** A loader of its own under the SDK mapper's loader, for the one subclass. */
    private static final class Definer extends ClassLoader {
        Definer(ClassLoader parent) {
            super(parent);
        }

        Class<?> define(String name, byte[] bytes) {
            return defineClass(name, bytes, 0, bytes.length);
        }
    }
}
