package dev.tokenguard.agent;

import java.util.List;

/**
 * The agent's classes that every first governed call needs whatever the SDK: the weave of the first hooked
 * class (ASM), the governor's path, the budget engine's per-call types and the session log's line encoder.
 * Loaded by the start-up thread once the agent is ready, so that the application's first call does not load
 * them one by one on its own thread (on a JVM's start every class costs a read from the jar, a parse and a
 * verification). Classes of one SDK's plugin are not here: they load with the first call through that SDK.
 *
 * <p>Names, not class literals: most are package-private elsewhere. A name that is no longer a class is
 * skipped here and reported by {@code FirstCallClassesTest}. Names under {@code net.bytebuddy} become the agent
 * jar's relocated names when the jar is built.
 */
final class FirstCallClasses {
    static final List<String> NAMES = List.of(
            // the weave of the first hooked class
            "net.bytebuddy.jar.asm.ClassVisitor",
            "net.bytebuddy.jar.asm.ClassReader",
            "net.bytebuddy.jar.asm.Attribute",
            "net.bytebuddy.jar.asm.Context",
            "net.bytebuddy.jar.asm.ClassWriter",
            "net.bytebuddy.jar.asm.MethodVisitor",
            "net.bytebuddy.jar.asm.MethodWriter",
            "net.bytebuddy.jar.asm.Label",
            "net.bytebuddy.jar.asm.FieldVisitor",
            "net.bytebuddy.jar.asm.FieldWriter",
            "net.bytebuddy.jar.asm.AnnotationVisitor",
            "net.bytebuddy.jar.asm.AnnotationWriter",
            "net.bytebuddy.jar.asm.ModuleVisitor",
            "net.bytebuddy.jar.asm.ModuleWriter",
            "net.bytebuddy.jar.asm.RecordComponentVisitor",
            "net.bytebuddy.jar.asm.RecordComponentWriter",
            "net.bytebuddy.jar.asm.SymbolTable",
            "net.bytebuddy.jar.asm.Symbol",
            "net.bytebuddy.jar.asm.SymbolTable$Entry",
            "net.bytebuddy.jar.asm.ByteVector",
            "net.bytebuddy.jar.asm.Handle",
            "net.bytebuddy.jar.asm.Type",
            "net.bytebuddy.jar.asm.Frame",
            "net.bytebuddy.jar.asm.CurrentFrame",
            "net.bytebuddy.jar.asm.Handler",
            "net.bytebuddy.jar.asm.Opcodes",
            "dev.tokenguard.agent.SdkPresence$DeclaredMembers",
            "dev.tokenguard.agent.GovernedMethodWeave",
            "dev.tokenguard.agent.GovernedMethodWeave$GovernedMethod",
            // the governor's path of every call
            "dev.tokenguard.core.RequestInput",
            "dev.tokenguard.core.InjectedFault",
            "dev.tokenguard.core.CallRequest",
            "dev.tokenguard.core.CallerFrame",
            "dev.tokenguard.core.EventLoopThreads",
            "dev.tokenguard.core.LlmCall",
            "dev.tokenguard.core.GovernedThread",
            "dev.tokenguard.core.Usage",
            "dev.tokenguard.core.UsageSource",
            "dev.tokenguard.core.CallRecord",
            "dev.tokenguard.instrumentation.SdkObjects",
            "dev.tokenguard.instrumentation.UnaskedStreamUsage",
            "dev.tokenguard.instrumentation.GovernedCall",
            "dev.tokenguard.instrumentation.StreamObserver",
            "dev.tokenguard.instrumentation.Callbacks",
            "dev.tokenguard.instrumentation.http.HttpLayer",
            "dev.tokenguard.instrumentation.http.KnownEndpoints",
            "dev.tokenguard.jfr.FlightRecorderState",
            "dev.tokenguard.pricing.PriceTable$Priced",
            // the budget engine's per-call types
            "dev.tokenguard.budget.ScopeInstance",
            "dev.tokenguard.budget.ThreadScope",
            "dev.tokenguard.budget.SessionIds",
            "dev.tokenguard.budget.UsageWindow",
            "dev.tokenguard.budget.CallScope",
            "dev.tokenguard.budget.Estimate",
            "dev.tokenguard.budget.InFlight",
            "dev.tokenguard.budget.Admission",
            "dev.tokenguard.budget.Reservation",
            "dev.tokenguard.budget.ChargeResult",
            // the session log's line
            "dev.tokenguard.sessionlog.SessionLogWriter$LineEncoder",
            "dev.tokenguard.sessionlog.JsonLine",
            "dev.tokenguard.sessionlog.WholeLineAppend");

    private FirstCallClasses() {
    }

    /** Loads (without initialising) each class that is there; returns how many were loaded. */
    static int load(ClassLoader loader) {
        int loaded = 0;
        for (String name : NAMES) {
            try {
                Class.forName(name, false, loader);
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                // a class renamed since: FirstCallClassesTest names it; the call loads what it needs itself
            }
        }
        return loaded;
    }
}
