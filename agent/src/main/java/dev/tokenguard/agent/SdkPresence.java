package dev.tokenguard.agent;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.instrumentation.SdkInstrumentation;
import net.bytebuddy.matcher.ElementMatcher;

import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.jar.Manifest;

/**
 * Whether a class loader holds a supported version of an SDK: its marker class and every class the
 * instrumentation needs are visible as resources (nothing is loaded). A loader with the SDK but
 * without a needed class is skipped whole, with one line, so that no instrumentation is half-applied.
 */
final class SdkPresence implements ElementMatcher<ClassLoader> {
    private final SdkInstrumentation instrumentation;
    private final Map<ClassLoader, Boolean> verdicts = new WeakHashMap<>();
    private volatile boolean reportedUnsupported;

    SdkPresence(SdkInstrumentation instrumentation) {
        this.instrumentation = instrumentation;
    }

    @Override
    public boolean matches(ClassLoader loader) {
        if (loader == null) {
            return false;
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
        if (loader.getResource(resource(instrumentation.markerClass())) == null) {
            return false;
        }
        for (String required : instrumentation.requiredClasses()) {
            if (loader.getResource(resource(required)) == null) {
                if (!reportedUnsupported) {
                    reportedUnsupported = true;
                    AgentLog.info("TokenGuard: " + describe(loader) + " found but not supported (no " + required + "); its calls are not governed");
                }
                return false;
            }
        }
        return true;
    }

    /** The SDK's name and, where its jar manifest tells, version, e.g. {@code openai-java 4.101.0}. */
    String describe(ClassLoader loader) {
        String version = version(loader);
        return version == null ? instrumentation.sdkName() : instrumentation.sdkName() + " " + version;
    }

    /** The SDK's version from its jar manifest, or null (a fat jar may have dropped it). */
    String version(ClassLoader loader) {
        URL url = loader == null ? null : loader.getResource(resource(instrumentation.markerClass()));
        if (url != null) {
            try {
                URLConnection connection = url.openConnection();
                if (connection instanceof JarURLConnection jar) {
                    jar.setUseCaches(false);
                    Manifest manifest = jar.getManifest();
                    String version = manifest == null ? null
                            : manifest.getMainAttributes().getValue("Implementation-Version");
                    if (version != null) {
                        return version;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // fall through
            }
        }
        return null;
    }

    static String resource(String className) {
        return className.replace('.', '/') + ".class";
    }
}
