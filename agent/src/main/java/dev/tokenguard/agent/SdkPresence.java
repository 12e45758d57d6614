package dev.tokenguard.agent;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.FieldVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Whether a class loader holds a version of an SDK that its plugin fits. The SDK's version (from the
 * marker class's jar manifest, where it tells) must lie in the plugin's range, and every hooked
 * method and every member the plugin reads by reflection must be there; the class files are read
 * with ASM, nothing is loaded. A version that does not fit is skipped whole, with one
 * line, so that no plugin is ever half-applied.
 */
final class SdkPresence {
    private final SdkPlugin plugin;
    private final Map<ClassLoader, Boolean> verdicts = new WeakHashMap<>();
    private volatile boolean reportedUnsupported;

    SdkPresence(SdkPlugin plugin) {
        this.plugin = plugin;
    }

    /** Whether the plugin applies to the classes of {@code loader}; judged once per loader. */
    boolean matches(ClassLoader loader) {
        Module jdk = JdkModules.of(plugin);
        if (jdk != null ? loader != jdk.getClassLoader() : loader == null) {
            return false; // a JDK plugin's classes come from its module's loader (null for java.base), no other's
        }
        synchronized (verdicts) {
            Boolean verdict = verdicts.get(loader);
            if (verdict == null) {
                verdict = judge(loader);
                verdicts.put(loader, verdict);
            }
            return verdict;
        }
    }

    private boolean judge(ClassLoader loader) {
        if (resourceOf(loader, resource(plugin.markerClass())) == null) {
            return false;
        }
        if (JdkModules.of(plugin) != null && !JdkModules.bridgeVisibleFrom(loader)) {
            return false; // the JDK's classes can only call the bridge from the bootstrap class path
        }
        String version = version(loader);
        if (version != null && !plugin.versions().contains(version)) {
            unsupported(loader, "supported versions are " + plugin.versions().describe());
            return false;
        }
        String missing = firstMissing(loader);
        if (missing != null) {
            unsupported(loader, "it has no " + missing + "; supported versions are " + plugin.versions().describe());
            return false;
        }
        return true;
    }

    private void unsupported(ClassLoader loader, String why) {
        if (!reportedUnsupported) {
            reportedUnsupported = true;
            AgentLog.info("TokenGuard: " + describe(loader) + " found but not supported (" + why
                    + "); its calls are not governed");
        }
    }

    /** The first hooked method or reflectively read member the loader's SDK lacks, or null. */
    String firstMissing(ClassLoader loader) {
        Map<String, DeclaredMembers> read = new HashMap<>();
        List<Member> needed = new ArrayList<>();
        for (Hook hook : plugin.hooks()) {
            for (String method : hook.methods()) {
                needed.add(Member.method(hook.typeName(), method, hook.parameterCount()));
            }
        }
        needed.addAll(plugin.reads());
        for (Member member : needed) {
            DeclaredMembers type = DeclaredMembers.of(loader, member.typeName(), read);
            if (type == null) {
                return member.typeName();
            }
            if (!has(loader, type, member, read)) {
                return member.describe();
            }
        }
        return null;
    }

    /** Whether the type, a superclass or (for a method) an interface of it declares the member. */
    private static boolean has(ClassLoader loader, DeclaredMembers type, Member member,
                               Map<String, DeclaredMembers> read) {
        List<DeclaredMembers> pending = new ArrayList<>();
        pending.add(type);
        while (!pending.isEmpty()) {
            DeclaredMembers current = pending.remove(pending.size() - 1);
            if (member.field() ? current.fields.contains(member.name())
                    : current.declaresMethod(member.name(), member.parameterCount())) {
                return true;
            }
            List<String> supers = new ArrayList<>();
            if (!member.field()) {
                supers.addAll(current.interfaces);
            }
            if (current.superName != null) {
                supers.add(current.superName);
            }
            for (String name : supers) {
                DeclaredMembers superType = DeclaredMembers.of(loader, name, read);
                if (superType != null) {
                    pending.add(superType);
                }
            }
        }
        return false;
    }

    /**
     * The names a class file declares, read with ASM from the loader's resource: nothing is loaded, and no
     * more than the class file's header and member table is parsed.
     */
    private static final class DeclaredMembers extends ClassVisitor {
        private String superName;
        private final List<String> interfaces = new ArrayList<>();
        private final Set<String> fields = new HashSet<>();
        private final List<String> methods = new ArrayList<>();

        private DeclaredMembers() {
            super(Opcodes.ASM9);
        }

        /** The members of the named type as {@code loader} would load it, or null when it has no such class file. */
        static DeclaredMembers of(ClassLoader loader, String typeName, Map<String, DeclaredMembers> read) {
            String binaryName = typeName.replace('/', '.');
            if (read.containsKey(binaryName)) {
                return read.get(binaryName);
            }
            DeclaredMembers members = null;
            try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(resource(binaryName))
                    : loader.getResourceAsStream(resource(binaryName))) {
                if (in != null) {
                    members = new DeclaredMembers();
                    new ClassReader(in.readAllBytes()).accept(members,
                            ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
                }
            } catch (IOException | RuntimeException e) {
                members = null; // unreadable counts as absent, as an unresolvable type did
            }
            read.put(binaryName, members);
            return members;
        }

        boolean declaresMethod(String name, int parameterCount) {
            for (String method : methods) {
                int paren = method.indexOf('(');
                if (method.regionMatches(0, name, 0, paren) && paren == name.length()
                        && (parameterCount < 0
                        || GovernedMethodWeave.parameterCount(method.substring(paren)) == parameterCount)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void visit(int version, int access, String name, String signature, String superName,
                          String[] interfaces) {
            this.superName = superName;
            if (interfaces != null) {
                this.interfaces.addAll(List.of(interfaces));
            }
        }

        @Override
        public FieldVisitor visitField(int access, String name, String descriptor, String signature, Object value) {
            fields.add(name);
            return null;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                         String[] exceptions) {
            methods.add(name + descriptor);
            return null;
        }
    }

    /** The SDK's name and, where its jar manifest tells, version, e.g. {@code openai-java 4.101.0}. */
    String describe(ClassLoader loader) {
        String version = version(loader);
        return version == null ? plugin.name() : plugin.name() + " " + version;
    }

    /** The SDK's version from its jar manifest, or null (a fat jar may have dropped it). */
    String version(ClassLoader loader) {
        if (JdkModules.of(plugin) != null) {
            return versionOfJdk(); // a JDK class: the JDK's version, e.g. 17.0.15
        }
        URL url = loader == null ? null : loader.getResource(resource(plugin.markerClass()));
        if (url != null) {
            try {
                URLConnection connection = url.openConnection();
                if (connection instanceof JarURLConnection jar) {
                    jar.setUseCaches(false); // a jar file of its own, closed here, never the class loader's
                    try (JarFile file = jar.getJarFile()) {
                        Manifest manifest = file.getManifest();
                        String version = manifest == null ? null
                                : manifest.getMainAttributes().getValue("Implementation-Version");
                        return version != null ? version : mavenVersion(file);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // fall through
            }
        }
        return null;
    }

    /**
     * The version in the jar's Maven {@code pom.properties}, for jars whose manifest names none (LangChain4j's);
     * null unless the jar holds exactly one, as a fat jar of several artifacts does not. A jar of more entries
     * than any one SDK's is taken for such a fat jar without being read through: an application's fat jar holds
     * tens of thousands, and this runs at start-up.
     */
    private static String mavenVersion(JarFile jar) throws IOException {
        if (jar.size() > MAX_SDK_JAR_ENTRIES) {
            return null;
        }
        JarEntry found = null;
        for (Enumeration<JarEntry> entries = jar.entries(); entries.hasMoreElements(); ) {
            JarEntry entry = entries.nextElement();
            if (entry.getName().startsWith("META-INF/maven/") && entry.getName().endsWith("/pom.properties")) {
                if (found != null) {
                    return null;
                }
                found = entry;
            }
        }
        if (found == null) {
            return null;
        }
        Properties pom = new Properties();
        try (InputStream in = jar.getInputStream(found)) {
            pom.load(in);
        }
        return pom.getProperty("version");
    }

    /** More entries than any single SDK jar has (bedrockruntime 2.57.8: 1,072; langchain4j-core: 600). */
    private static final int MAX_SDK_JAR_ENTRIES = 5_000;

    private static String versionOfJdk() {
        StringBuilder version = new StringBuilder();
        for (Integer part : Runtime.version().version()) {
            version.append(version.length() == 0 ? "" : ".").append(part);
        }
        return version.toString();
    }

    /** A resource of {@code loader}, the bootstrap loader's (seen through the system loader) when null. */
    private static URL resourceOf(ClassLoader loader, String name) {
        return loader == null ? ClassLoader.getSystemResource(name) : loader.getResource(name);
    }

    static String resource(String className) {
        return className.replace('.', '/') + ".class";
    }
}
