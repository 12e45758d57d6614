package dev.tokenguard.agent;

import dev.tokenguard.bootstrap.TokenGuardBridge;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Plugins;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.pricing.PriceTable;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** Installs the instrumentations: the call sites, the bridge to them, the transformer of the target classes. */
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
     * The agent's installation. At JVM start-up the transformer is built on a background thread;
     * attached to a running JVM, it is built, and the loaded classes retransformed, before this
     * returns.
     */
    static ClassFileTransformer install(TokenGuardConfig config, Supplier<PriceTable> prices,
                                        Instrumentation instrumentation, boolean atStartup) {
        Governor governor = AgentRuntime.start(config, prices).governor();
        return install(plugins(config), governor, instrumentation, atStartup);
    }

    /**
     * Installs the instrumentations feeding {@code governor} and returns once every class to
     * instrument, loaded or not, is covered; used by in-process tests. The classes are instrumented
     * once per JVM; a later call only routes the calls to the new governor.
     */
    public static ClassFileTransformer install(Governor governor, Instrumentation instrumentation) {
        return install(Plugins.ALL, governor, instrumentation, false);
    }

    private static synchronized ClassFileTransformer install(List<SdkPlugin> all, Governor governor,
                                                             Instrumentation instrumentation, boolean inBackground) {
        Map<String, CallSite> sites = new HashMap<>();
        for (SdkPlugin plugin : all) {
            for (Hook hook : plugin.hooks()) {
                for (String method : hook.methods()) {
                    sites.put(hook.siteName(method), hook.sites().create(method, governor));
                }
            }
        }
        DISPATCH.use(sites);
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
        Supplier<ClassFileTransformer> build = () -> {
            JdkModules.letReadBridge(all, instrumentation);
            return new TargetTransformer(all);
        };
        if (inBackground) {
            Thread builder = new Thread(() -> deferred.complete(build, instrumentation), "tokenguard-instrumentation");
            builder.setDaemon(true);
            builder.start();
        } else {
            deferred.complete(build, instrumentation);
        }
        return transformer;
    }

    /** The SDKs governed so far (name and version), in the order they were first instrumented. */
    static List<String> governedSdks() {
        return TargetTransformer.governedSdks();
    }
}
