package dev.tokenguard.agent;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.SdkPlugin;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The call sites of the switched-on plugins, each made on the first call that reaches it. Until an
 * SDK's method is really called, none of its plugin's call-site classes load: an application using
 * one SDK loads the call sites of that SDK only, and after its own start-up.
 */
final class CallSites {
    static final CallSites NONE = new CallSites(List.of(), null);

    /** One instrumented method: its hook and its name. */
    private record Declared(Hook hook, String method) {
    }

    private final Map<String, Declared> declared = new HashMap<>();
    private final Map<String, CallSite> made = new ConcurrentHashMap<>();
    private final Governor governor;

    CallSites(List<SdkPlugin> plugins, Governor governor) {
        this.governor = governor;
        for (SdkPlugin plugin : plugins) {
            for (Hook hook : plugin.hooks()) {
                for (String method : hook.methods()) {
                    declared.put(hook.siteName(method), new Declared(hook, method));
                }
            }
        }
    }

    /**
     * The call site named {@code site} (as the advice reports it), made now if this is its first call;
     * null if no switched-on plugin declares it. Made outside any lock: making it may load classes, and
     * two threads making the same site at once both use the one stored first.
     */
    CallSite get(String site) {
        CallSite callSite = made.get(site);
        if (callSite != null) {
            return callSite;
        }
        Declared d = declared.get(site);
        if (d == null) {
            return null;
        }
        CallSite fresh = d.hook().sites().create(d.method(), governor);
        CallSite first = made.putIfAbsent(site, fresh);
        return first != null ? first : fresh;
    }

    /** How many call sites were made so far (for tests). */
    int madeCount() {
        return made.size();
    }
}
