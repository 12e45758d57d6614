package dev.tokenguard.agent;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts the public API ({@code dev.tokenguard.api}) and the advice bridge
 * ({@code dev.tokenguard.bootstrap}) on the bootstrap class path, so that every class loader (a
 * Spring Boot fat jar's, an application server's) sees one and the same
 * {@code BudgetExhaustedException} and bridge. They are copied from the agent jar into a small
 * temporary jar, removed when the JVM exits.
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
        Path bootstrapJar = Files.createTempFile("tokenguard-bootstrap-", ".jar");
        bootstrapJar.toFile().deleteOnExit();
        try (JarFile source = new JarFile(agentJar.toFile());
             JarOutputStream out = new JarOutputStream(Files.newOutputStream(bootstrapJar))) {
            Enumeration<JarEntry> entries = source.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                if (!entry.isDirectory() && isBootstrapEntry(entry.getName())) {
                    out.putNextEntry(new JarEntry(entry.getName()));
                    try (InputStream in = source.getInputStream(entry)) {
                        in.transferTo(out);
                    }
                    out.closeEntry();
                }
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
