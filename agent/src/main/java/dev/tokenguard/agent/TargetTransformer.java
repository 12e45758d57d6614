package dev.tokenguard.agent;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.SdkPlugin;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Weaves the hooked methods of the plugins' target classes, found by exact name, into each such class
 * as it loads or is retransformed. A plugin's hooks are applied only where its SDK is really there in a
 * version it fits ({@link SdkPresence}, judged once per class loader). The first class of an SDK that is
 * woven prints its start-up line; a class that cannot be woven is reported once and loads unchanged.
 */
final class TargetTransformer implements ClassFileTransformer {
    /** The SDKs governed so far, as their start-up lines name them; once per JVM, like the transformer. */
    private static final List<String> GOVERNED = new CopyOnWriteArrayList<>();

    /** Internal name of each target class → the plugins hooking it, with their hooks on it. */
    private final Map<String, Map<SdkPlugin, List<Hook>>> targets = new HashMap<>();
    private final Map<SdkPlugin, SdkPresence> presences = new HashMap<>();
    private final Set<String> announced = ConcurrentHashMap.newKeySet();

    TargetTransformer(List<SdkPlugin> plugins) {
        for (SdkPlugin plugin : plugins) {
            presences.put(plugin, new SdkPresence(plugin));
            for (Hook hook : plugin.hooks()) {
                String type = hook.typeName().replace('.', '/');
                Map<SdkPlugin, List<Hook>> byPlugin = targets.get(type);
                if (byPlugin == null) {
                    byPlugin = new LinkedHashMap<>();
                    targets.put(type, byPlugin);
                }
                List<Hook> hooks = byPlugin.get(plugin);
                if (hooks == null) {
                    hooks = new ArrayList<>();
                    byPlugin.put(plugin, hooks);
                }
                hooks.add(hook);
            }
        }
    }

    /** The SDKs governed so far (name and version), in the order they were first instrumented. */
    static List<String> governedSdks() {
        return List.copyOf(GOVERNED);
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain domain, byte[] classfileBuffer) {
        Map<SdkPlugin, List<Hook>> byPlugin = className == null ? null : targets.get(className);
        if (byPlugin == null) {
            return null;
        }
        String typeName = className.replace('/', '.');
        try {
            List<Hook> hooks = new ArrayList<>();
            List<SdkPlugin> applied = new ArrayList<>();
            for (Map.Entry<SdkPlugin, List<Hook>> entry : byPlugin.entrySet()) {
                if (presences.get(entry.getKey()).matches(loader)) {
                    hooks.addAll(entry.getValue());
                    applied.add(entry.getKey());
                }
            }
            if (hooks.isEmpty()) {
                return null;
            }
            byte[] woven = GovernedMethodWeave.weave(classfileBuffer, typeName, hooks);
            for (SdkPlugin plugin : applied) {
                if (announced.add(plugin.name())) {
                    String sdk = presences.get(plugin).describe(loader);
                    GOVERNED.add(sdk);
                    AgentLog.info("TokenGuard: governing " + sdk);
                }
            }
            return woven;
        } catch (Throwable t) {
            AgentLog.failure("instrument " + typeName, t);
            return null;
        }
    }
}
