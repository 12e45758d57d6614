package dev.tokenguard.agent;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BootstrapInjectorTest {

    /** The class files of {@code type}'s package, where the build put them (a classes directory or a jar). */
    static Set<String> classesBeside(Class<?> type) throws IOException, URISyntaxException {
        Path location = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        String pkg = type.getPackageName().replace('.', '/') + "/";
        Set<String> names = new TreeSet<>();
        if (Files.isDirectory(location)) {
            try (Stream<Path> files = Files.list(location.resolve(pkg))) {
                files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".class"))
                        .forEach(f -> names.add(pkg.replace('/', '.') + f.substring(0, f.length() - 6)));
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                Enumeration<JarEntry> entries = jar.entries();
                while (entries.hasMoreElements()) {
                    String e = entries.nextElement().getName();
                    if (e.startsWith(pkg) && e.endsWith(".class") && e.indexOf('/', pkg.length()) < 0) {
                        names.add(e.substring(0, e.length() - 6).replace('/', '.'));
                    }
                }
            }
        }
        return names;
    }

    @Test
    void theListedBootstrapClassesAreExactlyTheApiAndBridgeClasses() throws Exception {
        Set<String> built = new TreeSet<>(classesBeside(BudgetExhaustedException.class));
        built.addAll(classesBeside(TokenGuardBridge.class));
        assertTrue(built.contains("dev.tokenguard.api.AgentLink$Agent"), built::toString);
        assertTrue(built.contains("dev.tokenguard.bootstrap.CallHooks"), built::toString);
        assertEquals(built, new TreeSet<>(Arrays.asList(BootstrapInjector.BOOTSTRAP_CLASSES)),
                "a class of dev.tokenguard.api or dev.tokenguard.bootstrap was added or removed: list it in"
                        + " BootstrapInjector.BOOTSTRAP_CLASSES (after its supertypes)");
        for (String name : BootstrapInjector.BOOTSTRAP_CLASSES) {
            assertTrue(BootstrapInjector.isBootstrapEntry(name.replace('.', '/') + ".class"), name);
        }
    }
}
