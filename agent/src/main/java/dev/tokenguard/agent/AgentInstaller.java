package dev.tokenguard.agent;

import dev.tokenguard.bootstrap.TokenGuardBridge;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.PluginTargets;
import dev.tokenguard.instrumentation.Plugins;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.pricing.PriceTable;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Installs the instrumentations: the call sites, the bridge to them, the transformer of the target classes.
 * Attached to a running JVM, all of it before the agent's entry point returns; at JVM start-up, only the
 * name-only transformer on the main thread, the rest on the start-up thread beside the application's start.
 */
public final class AgentInstaller {

    private static final CallDispatch DISPATCH = new CallDispatch();
    private static ClassFileTransformer transformer;

    private AgentInstaller() {
    }

    /** The plugins the configuration leaves switched on. */
    static List<SdkPlugin> plugins(TokenGuardConfig config) {
        List<SdkPlugin> on = new java.util.ArrayList<>();
        for (SdkPlugin plugin : Plugins.ALL) {
            if (config == null || config.instrumentationEnabled(plugin.name())) {
                on.add(plugin);
            }
        }
        return on;
    }

    /**
     * The agent's installation when attached to a running JVM: the transformer is built, the loaded
     * classes retransformed before this returns; each call site is made on its first call ({@link CallSites}).
     */
    static ClassFileTransformer install(TokenGuardConfig config, Supplier<PriceTable> prices,
                                        Instrumentation instrumentation) {
        Governor governor = AgentRuntime.start(config, prices).governor();
        return install(plugins(config), governor, instrumentation);
    }

    /**
     * The first half of the installation at JVM start-up, on the application's main thread: registers
     * the transformer that knows the target classes by name only ({@link PluginTargets}, no plugin class
     * loads). A target class loading before {@link #completeAtStartup} has built the real transformer
     * waits for it.
     */
    static DeferredTransformer deferAtStartup(Instrumentation instrumentation) {
        DeferredTransformer deferred = new DeferredTransformer(PluginTargets.ALL);
        instrumentation.addTransformer(deferred, true);
        return deferred;
    }

    /**
     * The second half, on the start-up thread once the configuration is read: builds the real
     * transformer (instrumenting the target classes already loaded), then the agent's running parts
     * and the call sites (each made on its first call). A call entering an instrumented method before then waits for
     * them ({@link CallDispatch}); if they cannot be made, it goes on ungoverned.
     */
    static void completeAtStartup(DeferredTransformer deferred, TokenGuardConfig config, Supplier<PriceTable> prices,
                                  Instrumentation instrumentation) {
        List<SdkPlugin> on = plugins(config);
        synchronized (AgentInstaller.class) {
            DISPATCH.holdCallsExceptOf(Thread.currentThread());
            TokenGuardBridge.install(DISPATCH);
            transformer = deferred;
        }
        try {
            deferred.complete(new TargetTransformers(on, instrumentation), instrumentation);
            DISPATCH.holdStartUpIfAsked();
            Governor governor = AgentRuntime.start(config, prices).governor();
            DISPATCH.use(new CallSites(on, governor));
        } finally {
            DISPATCH.release();
        }
        // ready: what any first call needs loads here, beside the application, not on the calling thread
        FirstCallClasses.load(AgentInstaller.class.getClassLoader());
    }

    /** The start-up stopped before it installed anything (a configuration error, the agent switched off). */
    static void abandonAtStartup(DeferredTransformer deferred, Instrumentation instrumentation) {
        instrumentation.removeTransformer(deferred);
        deferred.abandon();
    }

    /**
     * Installs the instrumentations feeding {@code governor} and returns once every class to
     * instrument, loaded or not, is covered; used by in-process tests. The classes are instrumented
     * once per JVM; a later call only routes the calls to the new governor.
     */
    public static ClassFileTransformer install(Governor governor, Instrumentation instrumentation) {
        return install(Plugins.ALL, governor, instrumentation);
    }

    private static synchronized ClassFileTransformer install(List<SdkPlugin> all, Governor governor,
                                                             Instrumentation instrumentation) {
        DISPATCH.use(new CallSites(all, governor));
        if (transformer != null) {
            return transformer;
        }
        TokenGuardBridge.install(DISPATCH);
        Set<String> targets = new java.util.HashSet<>();
        for (SdkPlugin plugin : all) {
            targets.addAll(plugin.typeNames());
        }
        DeferredTransformer deferred = new DeferredTransformer(targets);
        instrumentation.addTransformer(deferred, true);
        transformer = deferred;
        // the JDK plugins' modules read the bridge before the transformer that hooks them is ready
        deferred.complete(new TargetTransformers(all, instrumentation), instrumentation);
        return transformer;
    }

    /** The SDKs governed so far (name and version), in the order they were first instrumented. */
    static List<String> governedSdks() {
        return TargetTransformer.governedSdks();
    }

    /**
     * Makes the transformer of the plugins, once the JDK plugins' modules read the bridge. A class of its own, not a
     * lambda, whose class would be spun at run time on the application's start-up.
     */
    private static final class TargetTransformers implements Supplier<ClassFileTransformer> {
        private final List<SdkPlugin> plugins;
        private final Instrumentation instrumentation;

        TargetTransformers(List<SdkPlugin> plugins, Instrumentation instrumentation) {
            this.plugins = plugins;
            this.instrumentation = instrumentation;
        }

        @Override
        public ClassFileTransformer get() {
            JdkModules.letReadBridge(plugins, instrumentation);
            return new TargetTransformer(plugins);
        }
    }
}
