package dev.tokenguard.agent;

import dev.tokenguard.core.AgentLog;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Keeps the instrumentation's set-up off the application's start-up path. Registered at
 * {@code premain}, it looks only at class names; the transformer that does the work
 * ({@link TargetTransformer}) is built on a background thread. A class to instrument that starts
 * loading before that transformer is ready waits for it (a bounded time), so no instrumented class
 * ever escapes; every other class passes untouched.
 */
final class DeferredTransformer implements ClassFileTransformer {
    static final long READY_WAIT_SECONDS = 30;

    /** Internal names (with {@code /}) of the classes to instrument. */
    private final Set<String> targets;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile ClassFileTransformer delegate;

    DeferredTransformer(Set<String> targetClassNames) {
        Set<String> internal = new java.util.HashSet<>();
        for (String name : targetClassNames) {
            internal.add(name.replace('.', '/'));
        }
        this.targets = Set.copyOf(internal);
    }

    /**
     * Builds the real transformer (on the calling thread), then retransforms the target classes
     * that were loaded before this transformer was registered.
     */
    void complete(Supplier<ClassFileTransformer> build, Instrumentation instrumentation) {
        try {
            delegate = build.get();
        } catch (RuntimeException | Error e) {
            AgentLog.failure("instrumentation.build", e);
        } finally {
            ready.countDown();
        }
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> type : instrumentation.getAllLoadedClasses()) {
            if (targets.contains(type.getName().replace('.', '/')) && instrumentation.isModifiableClass(type)) {
                loaded.add(type);
            }
        }
        if (!loaded.isEmpty() && delegate != null) {
            try {
                instrumentation.retransformClasses(loaded.toArray(new Class<?>[0]));
            } catch (UnmodifiableClassException | RuntimeException | Error e) {
                AgentLog.failure("instrumentation.retransform", e);
            }
        }
    }

    /** No transformer will come: a class waiting for one loads unchanged. */
    void abandon() {
        ready.countDown();
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain domain, byte[] classfileBuffer) throws IllegalClassFormatException {
        if (className == null || !targets.contains(className)) {
            return null;
        }
        ClassFileTransformer d = awaitDelegate();
        return d == null ? null : d.transform(module, loader, className, classBeingRedefined, domain, classfileBuffer);
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain domain, byte[] classfileBuffer) throws IllegalClassFormatException {
        if (className == null || !targets.contains(className)) {
            return null;
        }
        ClassFileTransformer d = awaitDelegate();
        return d == null ? null : d.transform(loader, className, classBeingRedefined, domain, classfileBuffer);
    }

    private ClassFileTransformer awaitDelegate() {
        ClassFileTransformer d = delegate;
        if (d != null) {
            return d;
        }
        try {
            if (!ready.await(READY_WAIT_SECONDS, TimeUnit.SECONDS)) {
                AgentLog.failure("instrumentation.late", "TokenGuard: instrumentation was not ready in "
                        + READY_WAIT_SECONDS + " s; a class was loaded ungoverned");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return delegate;
    }
}
