package dev.tokenguard.agent;

import dev.tokenguard.bootstrap.TokenGuardBridge;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.instrumentation.SdkPlugin;

import java.lang.instrument.Instrumentation;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Plugins whose marker class is part of the running JDK (the JDK's own HTTP client). Their classes
 * sit in named modules of the boot layer, which read only the modules they declare: the advice
 * inlined into them calls {@link TokenGuardBridge}, in the bootstrap loader's unnamed module, so
 * each such module is given a read edge to it before any of its classes is instrumented.
 */
final class JdkModules {
    private JdkModules() {
    }

    private static final Map<String, Optional<Module>> BY_MARKER = new ConcurrentHashMap<>();

    /** The boot-layer module holding the plugin's marker class, or null when it is not a JDK plugin. */
    static Module of(SdkPlugin plugin) {
        String marker = plugin.markerClass();
        Optional<Module> module = BY_MARKER.get(marker);
        if (module == null) {
            module = find(marker);
            BY_MARKER.put(marker, module);
        }
        return module.orElse(null);
    }

    private static Optional<Module> find(String marker) {
        int dot = marker.lastIndexOf('.');
        String pkg = dot < 0 ? "" : marker.substring(0, dot);
        for (Module module : ModuleLayer.boot().modules()) {
            if (module.getPackages().contains(pkg)) {
                return Optional.of(module);
            }
        }
        return Optional.empty();
    }

    /** Lets every JDK plugin's module read the bridge's module. */
    static void letReadBridge(List<SdkPlugin> plugins, Instrumentation instrumentation) {
        Module bridge = TokenGuardBridge.class.getModule();
        for (SdkPlugin plugin : plugins) {
            Module module = of(plugin);
            if (module != null && !module.canRead(bridge)) {
                try {
                    instrumentation.redefineModule(module, Set.of(bridge), Map.of(), Map.of(), Set.of(), Map.of());
                } catch (RuntimeException e) {
                    AgentLog.failure("instrument " + plugin.name(), e);
                }
            }
        }
    }

    /**
     * Whether the advice inlined into a class of {@code loader} can reach this agent's bridge: true
     * once the bridge is on the bootstrap class path, as under {@code -javaagent}.
     */
    static boolean bridgeVisibleFrom(ClassLoader loader) {
        try {
            return Class.forName(TokenGuardBridge.class.getName(), false, loader) == TokenGuardBridge.class;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
