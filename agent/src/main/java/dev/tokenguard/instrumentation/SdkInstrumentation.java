package dev.tokenguard.instrumentation;

import dev.tokenguard.core.Governor;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

import java.util.List;
import java.util.Map;

/** One SDK line the agent instruments: which classes, which advice, and the call sites behind it. */
public interface SdkInstrumentation {

    /** The SDK's name as the start-up line prints it, e.g. {@code openai-java}. */
    String sdkName();

    /** A class every supported version has: the SDK is present in a loader that can see it. */
    String markerClass();

    /** Classes the instrumentation needs besides the instrumented ones; a loader missing one is skipped whole. */
    List<String> requiredClasses();

    /** The names of the instrumented types. */
    List<String> typeNames();

    /** The instrumented types, matched by exact name. */
    default ElementMatcher<TypeDescription> types() {
        return net.bytebuddy.matcher.ElementMatchers.namedOneOf(typeNames().toArray(String[]::new));
    }

    /** Applies the advice to a matched type. */
    AgentBuilder.Transformer transformer();

    /** The call sites, by the site name the advice reports. */
    Map<String, CallSite> sites(Governor governor);
}
