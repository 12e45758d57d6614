package dev.tokenguard.agent;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts the public API ({@code dev.tokenguard.api}) and the advice bridge
 * ({@code dev.tokenguard.bootstrap}) into the bootstrap class loader, so that every class loader (a
 * Spring Boot fat jar's, an application server's, an isolated plugin loader) sees one and the same
 * {@code BudgetExhaustedException} and bridge.
 *
 * <p>The classes are defined in the bootstrap loader directly where the JVM allows it (the JDK's
 * internal Unsafe, opened through the instrumentation): unlike appending a jar to the bootstrap
 * class path, this keeps class-data sharing on and the JVM silent. Where it is not available, they
 * are copied into a small temporary jar appended to the bootstrap class path.
 */
final class BootstrapInjector {
    static final String[] BOOTSTRAP_PACKAGES = {"dev/tokenguard/api/", "dev/tokenguard/bootstrap/"};
    /**
     * Every class of those packages, by binary name, in an order where each class's supertypes come first.
     * Looked up by name: nothing walks the agent jar's thousands of entries at start-up.
     * {@code BootstrapInjectorTest} keeps the list complete.
     */
    static final String[] BOOTSTRAP_CLASSES = {
        "dev.tokenguard.bootstrap.TokenGuardBridge", "dev.tokenguard.bootstrap.CallHooks",
        "dev.tokenguard.bootstrap.RefusalInFlight", "dev.tokenguard.api.UsageSubscription",
        "dev.tokenguard.api.TokenGuard", "dev.tokenguard.api.UsageEvent",
        "dev.tokenguard.api.BudgetExhaustedException", "dev.tokenguard.api.BudgetStatus",
        "dev.tokenguard.api.AgentLink$Agent", "dev.tokenguard.api.AgentLink"};

    private BootstrapInjector() {
    }

    static void inject(Instrumentation instrumentation) throws IOException {
        Path agentJar = agentJar();
        if (agentJar == null) {
            return; // running from classes (in-process tests): the classes are on the class path already
        }
        Map<String, byte[]> classes = bootstrapClasses(agentJar);
        if (!defineDirectly(instrumentation, classes)) {
            appendJar(instrumentation, classes);
        }
    }

    private static Map<String, byte[]> bootstrapClasses(Path agentJar) throws IOException {
        Map<String, byte[]> classes = new LinkedHashMap<>();
        try (JarFile source = new JarFile(agentJar.toFile())) {
            for (String name : BOOTSTRAP_CLASSES) {
                JarEntry entry = source.getJarEntry(name.replace('.', '/') + ".class");
                if (entry == null) {
                    throw new IOException(name + " is missing from " + agentJar);
                }
                try (InputStream in = source.getInputStream(entry)) {
                    classes.put(name, in.readAllBytes());
                }
            }
        }
        return classes;
    }

    /**
     * Defines the classes in the bootstrap loader with the JDK's internal {@code Unsafe}, which the
     * instrumentation opens to the agent for this purpose only. Plain reflection: nothing heavier
     * (such as Byte Buddy's own injector, which generates classes) runs on the start-up path.
     */
    private static boolean defineDirectly(Instrumentation instrumentation, Map<String, byte[]> classes) {
        try {
            Module javaBase = Object.class.getModule();
            Module agent = BootstrapInjector.class.getModule();
            String internal = "jdk.internal.misc";
            instrumentation.redefineModule(javaBase, Set.of(), Map.of(internal, Set.of(agent)),
                    Map.of(internal, Set.of(agent)), Set.of(), Map.of());
            Class<?> unsafeType = Class.forName(internal + ".Unsafe");
            Object unsafe = unsafeType.getMethod("getUnsafe").invoke(null);
            Method define = unsafeType.getMethod("defineClass", String.class, byte[].class, int.class, int.class,
                    ClassLoader.class, ProtectionDomain.class);
            for (Map.Entry<String, byte[]> c : classes.entrySet()) {
                byte[] bytes = c.getValue();
                define.invoke(unsafe, c.getKey(), bytes, 0, bytes.length, null, null);
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static void appendJar(Instrumentation instrumentation, Map<String, byte[]> classes) throws IOException {
        Path bootstrapJar = Files.createTempFile("tokenguard-bootstrap-", ".jar");
        bootstrapJar.toFile().deleteOnExit();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(bootstrapJar))) {
            for (Map.Entry<String, byte[]> c : classes.entrySet()) {
                out.putNextEntry(new JarEntry(c.getKey().replace('.', '/') + ".class"));
                out.write(c.getValue());
                out.closeEntry();
            }
        }
        instrumentation.appendToBootstrapClassLoaderSearch(new JarFile(bootstrapJar.toFile()));
    }

    static boolean isBootstrapEntry(String name) {
        for (String prefix : BOOTSTRAP_PACKAGES) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static Path agentJar() {
        CodeSource source = BootstrapInjector.class.getProtectionDomain().getCodeSource();
        URL location = source == null ? null : source.getLocation();
        if (location == null) {
            return null;
        }
        try {
            Path path = Path.of(location.toURI());
            return Files.isRegularFile(path) ? path : null;
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }
}
