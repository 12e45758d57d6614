package dev.tokenguard.instrumentation;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The whole declaration of one SDK plugin. Everything else about an SDK is derived from it: the
 * classes to transform, the presence and version check, the start-up line, the
 * {@code tokenguard.instrumentation.<name>.enabled} option and the call routing. It says nothing of
 * how classes get transformed, so a plugin does not change when the weaving does.
 *
 * @param name        the SDK's name in start-up lines and option keys, e.g. {@code openai-java}
 * @param provider    the GenAI provider name its calls default to, e.g. {@code openai}
 * @param markerClass a class every version has: the SDK is present in a loader that can see it
 * @param versions    the supported versions (from the marker class's jar manifest, where it tells)
 * @param hooks       the instrumented types and methods
 * @param reads       every member the plugin reads or calls by reflection
 */
public record SdkPlugin(String name, String provider, String markerClass, VersionRange versions, List<Hook> hooks,
                        List<Member> reads) {

    public SdkPlugin {
        hooks = List.copyOf(hooks);
        reads = List.copyOf(reads);
    }

    /** The names of the instrumented types. */
    public List<String> typeNames() {
        List<String> names = new ArrayList<>();
        for (Hook hook : hooks) {
            if (!names.contains(hook.typeName())) {
                names.add(hook.typeName());
            }
        }
        return names;
    }

    /** The key of the option that switches this plugin off. */
    public String enabledKey() {
        return "tokenguard.instrumentation." + name + ".enabled";
    }

    /*
     * Written out rather than generated: a record's own hashCode and equals bootstrap method handles on first use,
     * some 100 ms of CPU at JVM start-up while the transformer keys its plugins. Same meaning as the generated ones.
     */

    @Override
    public int hashCode() {
        return Objects.hashCode(name);
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof SdkPlugin p && Objects.equals(name, p.name)
                && Objects.equals(provider, p.provider) && Objects.equals(markerClass, p.markerClass)
                && Objects.equals(versions, p.versions) && hooks.equals(p.hooks) && reads.equals(p.reads);
    }
}
