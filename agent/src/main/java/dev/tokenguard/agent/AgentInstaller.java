package dev.tokenguard.agent;

import dev.tokenguard.bootstrap.TokenGuardBridge;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernCall;
import dev.tokenguard.instrumentation.GovernCallWithHandler;
import dev.tokenguard.instrumentation.GovernCallWithArguments;
import dev.tokenguard.instrumentation.GovernTargetCall;
import dev.tokenguard.instrumentation.GovernedCallExit;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Plugins;
import dev.tokenguard.instrumentation.SdkPlugin;
import net.bytebuddy.asm.Advice;
import dev.tokenguard.pricing.PriceTable;
import java.util.function.Supplier;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.Nexus;
import net.bytebuddy.utility.JavaModule;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static net.bytebuddy.matcher.ElementMatchers.isProtected;
import static net.bytebuddy.matcher.ElementMatchers.isPublic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/** Builds the Byte Buddy agent: the instrumentations, the ignore list, the start-up lines. */
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
     * The agent's installation. At JVM start-up Byte Buddy's transformer is built on a background
     * thread; attached to a running JVM, it is built, and the loaded classes retransformed, before
     * this returns.
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
            return byteBuddy(all);
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

    /** The Byte Buddy transformer that applies every instrumentation's advice; not registered itself. */
    private static ClassFileTransformer byteBuddy(List<SdkPlugin> all) {
        AgentBuilder builder = withoutNexus()
                .disableClassFormatChanges()
                .with(new StartupLines(all))
                .ignore(not(namedOneOf(jdkTypes(all))).and(nameStartsWith("dev.tokenguard.")
                        .or(nameStartsWith("net.bytebuddy."))
                        .or(nameStartsWith("java."))
                        .or(nameStartsWith("javax."))
                        .or(nameStartsWith("jdk."))
                        .or(nameStartsWith("sun."))
                        // names only: a matcher on modifiers (isSynthetic) made Byte Buddy parse the class
                        // file of every class the application loads, which was most of the agent's cost at
                        // start-up; the SDK matchers are exact names and never match a synthetic class
                        .or(nameStartsWith("com.sun."))));
        for (SdkPlugin plugin : all) {
            SdkPresence presence = new SdkPresence(plugin);
            for (Hook hook : plugin.hooks()) {
                builder = builder.type(named(hook.typeName()), presence).transform(advice(hook));
            }
        }
        return builder.makeRaw();
    }

    /**
     * A new {@link AgentBuilder.Default} that never touches {@code sun.misc.Unsafe}. Its constructor sets up
     * Byte Buddy's {@link Nexus} (an initialisation strategy that injects a class into the system class loader),
     * and the first use of the Nexus class probes {@code ClassInjector.UsingUnsafe}, which makes Java 24 and
     * later print four {@code WARNING:} lines about {@code sun.misc.Unsafe::objectFieldOffset}. The agent needs
     * no Nexus ({@code disableClassFormatChanges()} sets no initialiser), so it is switched off with Byte
     * Buddy's own property while the Nexus accessor initialises. In the agent jar the property's name is the
     * relocated one, so the application's own Byte Buddy never sees it; it is removed again afterwards.
     */
    static AgentBuilder.Default withoutNexus() {
        String before = System.getProperty(Nexus.PROPERTY);
        System.setProperty(Nexus.PROPERTY, "true");
        try {
            return new AgentBuilder.Default();
        } finally {
            if (before == null) {
                System.clearProperty(Nexus.PROPERTY);
            } else {
                System.setProperty(Nexus.PROPERTY, before);
            }
        }
    }

    /** The hooked types that live in the JDK: the one exception to ignoring the JDK's own classes. */
    private static String[] jdkTypes(List<SdkPlugin> all) {
        List<String> names = new java.util.ArrayList<>();
        for (SdkPlugin plugin : all) {
            if (JdkModules.of(plugin) != null) {
                names.addAll(plugin.typeNames());
            }
        }
        return names.toArray(String[]::new);
    }

    /**
     * The shared advice on the hook's methods of the declared names and parameter count that a caller or
     * subclass can reach (public or protected: an HTTP client's one funnel may be a protected template method).
     */
    private static AgentBuilder.Transformer advice(Hook hook) {
        Class<?> advice = switch (hook.shape()) {
            case REQUEST -> GovernCall.class;
            case REQUEST_AND_HANDLER -> GovernCallWithHandler.class;
            case TARGET -> GovernTargetCall.class;
            case ARGUMENTS -> GovernCallWithArguments.class;
        };
        return (builder, type, loader, module, domain) -> builder.visit(Advice.to(advice, GovernedCallExit.class)
                .on(namedOneOf(hook.methods().toArray(String[]::new)).and(takesArguments(hook.parameterCount()))
                        .and(isPublic().or(isProtected()))));
    }

    /** The SDKs governed so far, as their start-up lines name them; once per JVM, like the transformer. */
    private static final List<String> GOVERNED = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** The SDKs governed so far (name and version), in the order they were first instrumented. */
    static List<String> governedSdks() {
        return List.copyOf(GOVERNED);
    }

    /** One line per instrumented SDK, the first time one of its classes is instrumented; errors once. */
    private static final class StartupLines extends AgentBuilder.Listener.Adapter {
        private final List<SdkPlugin> plugins;
        private final Set<String> announced = ConcurrentHashMap.newKeySet();

        StartupLines(List<SdkPlugin> plugins) {
            this.plugins = plugins;
        }

        @Override
        public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module, boolean loaded,
                                     DynamicType dynamicType) {
            for (SdkPlugin plugin : plugins) {
                if (plugin.typeNames().contains(type.getName()) && announced.add(plugin.name())) {
                    String sdk = new SdkPresence(plugin).describe(loader);
                    GOVERNED.add(sdk);
                    AgentLog.info("TokenGuard: governing " + sdk);
                }
            }
        }

        @Override
        public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded,
                            Throwable throwable) {
            AgentLog.failure("instrument " + typeName, throwable);
        }
    }
}
