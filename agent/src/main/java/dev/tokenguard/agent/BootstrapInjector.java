package dev.tokenguard.agent;

import net.bytebuddy.dynamic.loading.ClassInjector;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts the public API ({@code dev.tokenguard.api}) and the advice bridge
 * ({@code dev.tokenguard.bootstrap}) into the bootstrap class loader, so that every class loader (a
 * Spring Boot fat jar's, an application server's, an isolated plugin loader) sees one and the same
 * {@code BudgetExhaustedException} and bridge.
 *
 * <p>The classes are defined in the bootstrap loader directly where the JVM allows it (Byte Buddy's
 * Unsafe injector, opened through the instrumentation): unlike appending a jar to the bootstrap
 * class path, this keeps class-data sharing on and the JVM silent. Where it is not available, they
 * are copied into a small temporary jar appended to the bootstrap class path.
 */
final class BootstrapInjector {
    static final String[] BOOTSTRAP_PACKAGES = {"dev/tokenguard/api/", "dev/tokenguard/bootstrap/"};

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
            Enumeration<JarEntry> entries = source.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                String name = entry.getName();
                if (!entry.isDirectory() && name.endsWith(".class") && isBootstrapEntry(name)) {
                    try (InputStream in = source.getInputStream(entry)) {
                        classes.put(name.substring(0, name.length() - ".class".length()).replace('/', '.'),
                                in.readAllBytes());
                    }
                }
            }
        }
        return classes;
    }

    private static boolean defineDirectly(Instrumentation instrumentation, Map<String, byte[]> classes) {
        try {
            ClassInjector.UsingUnsafe.Factory factory = ClassInjector.UsingUnsafe.Factory.resolve(instrumentation);
            if (!factory.isAvailable()) {
                return false;
            }
            factory.make(null).injectRaw(classes);
            return true;
        } catch (RuntimeException | LinkageError e) {
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
