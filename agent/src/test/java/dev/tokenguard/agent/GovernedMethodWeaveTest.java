package dev.tokenguard.agent;

import dev.tokenguard.agent.weave.RecordingBridge;
import dev.tokenguard.agent.weave.WeaveFixture;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The weave on a class of its own, loaded (and so verified) in a class loader of its own, calling a recording
 * bridge: what each hook shape passes, what it lets the governed call replace, a refusal, failures of the bridge.
 */
class GovernedMethodWeaveTest {
    private static final String FIXTURE = WeaveFixture.class.getName();
    private static final String SITE = FIXTURE + ".";

    private static final List<Hook> HOOKS = List.of(
            hook(List.of("greet"), 1, Hook.Shape.REQUEST),
            hook(List.of("greetStatically"), 1, Hook.Shape.REQUEST),
            hook(List.of("append"), 2, Hook.Shape.REQUEST_AND_HANDLER),
            hook(List.of("total"), 0, Hook.Shape.TARGET),
            hook(List.of("scale"), 3, Hook.Shape.ARGUMENTS),
            hook(List.of("parse", "positive"), 1, Hook.Shape.REQUEST));

    private Object fixture;

    private static Hook hook(List<String> methods, int parameterCount, Hook.Shape shape) {
        return new Hook(FIXTURE, methods, parameterCount, Layer.SDK, shape, (method, governor) -> null);
    }

    @BeforeEach
    void wovenFixture() throws Exception {
        byte[] original;
        try (InputStream in = WeaveFixture.class.getResourceAsStream("WeaveFixture.class")) {
            original = in.readAllBytes();
        }
        byte[] woven = GovernedMethodWeave.weave(original, FIXTURE, HOOKS,
                RecordingBridge.class.getName().replace('.', '/'));
        ClassLoader loader = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.equals(FIXTURE)) {
                    synchronized (getClassLoadingLock(name)) {
                        Class<?> defined = findLoadedClass(name);
                        return defined != null ? defined : defineClass(name, woven, 0, woven.length);
                    }
                }
                return super.loadClass(name, resolve);
            }
        };
        fixture = Class.forName(FIXTURE, true, loader).getConstructor().newInstance();
        RecordingBridge.reset();
    }

    /** How often the woven class's bodies ran (its own static, not the test loader's class's). */
    private int bodies() throws ReflectiveOperationException {
        return fixture.getClass().getField("bodies").getInt(null);
    }

    private Object call(String name, Class<?>[] types, Object... arguments) throws Throwable {
        Method method = fixture.getClass().getDeclaredMethod(name, types);
        method.setAccessible(true);
        try {
            return method.invoke(fixture, arguments);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Class<?>[] types(Class<?>... types) {
        return types;
    }

    @Test
    void eachShapePassesTheSiteTheTargetAndItsRequestAndTheMethodStillWorks() throws Throwable {
        assertEquals("hello ann", call("greet", types(String.class), "ann"));
        StringBuilder sink = new StringBuilder();
        assertEquals(3, call("append", types(String.class, StringBuilder.class), "abc", sink));
        assertEquals("abc", sink.toString());
        assertEquals(10L, call("total", types()));
        assertEquals(1.5, call("scale", types(long.class, double.class, String.class), 3L, 0.5, "x"));
        assertEquals(true, call("positive", types(int.class), 7));
        assertEquals(false, call("positive", types(int.class), 0));
        assertEquals(List.of(
                "enter " + SITE + "greet WeaveFixture String:ann", "request call String:ann",
                "exit call String:hello ann null",
                "enter " + SITE + "append WeaveFixture String:abc", "request call String:abc",
                "argument call 1 StringBuilder:", "exit call Integer:3 null",
                "enter " + SITE + "total WeaveFixture null", "exit call Long:10 null",
                "enter " + SITE + "scale WeaveFixture [3, 0.5, x]", "request call [3, 0.5, x]",
                "exit call Double:1.5 null",
                "enter " + SITE + "positive WeaveFixture Integer:7", "request call Integer:7",
                "exit call Boolean:true null",
                "enter " + SITE + "positive WeaveFixture Integer:0", "request call Integer:0",
                "exit call Boolean:false null"), RecordingBridge.EVENTS);
        assertEquals(6, bodies());
    }

    @Test
    void methodsOfAnotherParameterCountAndStaticMethodsAreLeftAlone() throws Throwable {
        assertEquals("hello dr ann", call("greet", types(String.class, String.class), "ann", "dr"));
        assertEquals("hi ann", call("greetStatically", types(String.class), "ann"));
        assertEquals(List.of(), RecordingBridge.EVENTS);
    }

    @Test
    void whatTheMethodThrowsReachesTheExitAndThenTheCaller() throws Throwable {
        IOException thrown = assertThrows(IOException.class, () -> call("parse", types(String.class), "x1"));
        assertEquals("not a number: x1", thrown.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> call("scale", types(long.class, double.class, String.class), 2L, 1.0, null));
        assertNull(call("parse", types(String.class), "12"));
        assertEquals(List.of(
                "enter " + SITE + "parse WeaveFixture String:x1", "request call String:x1",
                "exit call null IOException",
                "enter " + SITE + "scale WeaveFixture [2, 1.0, null]", "request call [2, 1.0, null]",
                "exit call Double:0.0 IllegalArgumentException",
                "enter " + SITE + "parse WeaveFixture String:12", "request call String:12", "exit call null null"),
                RecordingBridge.EVENTS);
    }

    @Test
    void theGovernedCallMayReplaceTheRequestTheHandlerEveryArgumentAndTheResult() throws Throwable {
        RecordingBridge.request = value -> value instanceof Object[] ? new Object[] {4L, 2.5, "y"}
                : value instanceof Integer ? (Object) (-3) : "bob";
        StringBuilder replacement = new StringBuilder();
        RecordingBridge.argument = value -> replacement;
        assertEquals("hello bob", call("greet", types(String.class), "ann"));
        StringBuilder sink = new StringBuilder();
        assertEquals(3, call("append", types(String.class, StringBuilder.class), "abc", sink));
        assertEquals("", sink.toString());
        assertEquals("bob", replacement.toString());
        assertEquals(10.0, call("scale", types(long.class, double.class, String.class), 1L, 1.0, "x"));
        assertEquals(false, call("positive", types(int.class), 5));
        RecordingBridge.returned = value -> value instanceof Long ? (Object) 42L : value;
        assertEquals(42L, call("total", types()));
    }

    @Test
    void aRefusedCallRunsNoBodyAndEndsWithTheRefusal() throws Throwable {
        BudgetExhaustedException refusal = new BudgetExhaustedException("default", "thread:main#1", 120, 100,
                "test chat m");
        RecordingBridge.call = refusal;
        StringBuilder sink = new StringBuilder();
        assertSame(refusal, assertThrows(BudgetExhaustedException.class,
                () -> call("append", types(String.class, StringBuilder.class), "abc", sink)));
        assertSame(refusal, assertThrows(BudgetExhaustedException.class, () -> call("total", types())));
        assertSame(refusal, assertThrows(BudgetExhaustedException.class, () -> call("parse", types(String.class), "1")));
        assertEquals("", sink.toString());
        assertEquals(0, bodies());
        assertEquals(List.of(
                "enter " + SITE + "append WeaveFixture String:abc", "request refusal String:abc",
                "argument refusal 1 StringBuilder:", "exit refusal Integer:0 null",
                "enter " + SITE + "total WeaveFixture null", "exit refusal Long:0 null",
                "enter " + SITE + "parse WeaveFixture String:1", "request refusal String:1", "exit refusal null null"),
                RecordingBridge.EVENTS.stream().map(e -> e.replace(refusal.toString(), "refusal")).toList());
    }

    @Test
    void aFailingBridgeIsSuppressedOnEnterAndOnExit() throws Throwable {
        RecordingBridge.call = new IllegalStateException("enter fails");
        assertEquals("hello ann", call("greet", types(String.class), "ann"));
        RecordingBridge.call = "call";
        RecordingBridge.exitFails = true;
        assertEquals(10L, call("total", types()));
        assertEquals(List.of(
                "enter " + SITE + "greet WeaveFixture String:ann", "exit null String:hello ann null",
                "enter " + SITE + "total WeaveFixture null", "exit call Long:10 null"), RecordingBridge.EVENTS);
        assertEquals(2, bodies());
    }

    @Test
    void aClassWithoutHookedMethodsIsNotRewritten() throws IOException {
        byte[] original;
        try (InputStream in = WeaveFixture.class.getResourceAsStream("WeaveFixture.class")) {
            original = in.readAllBytes();
        }
        assertNull(GovernedMethodWeave.weave(original, FIXTURE, List.of(hook(List.of("absent"), 1, Hook.Shape.REQUEST))));
        assertArrayEquals(new int[] {0, 1, 3, 2}, new int[] {GovernedMethodWeave.parameterCount("()V"),
                GovernedMethodWeave.parameterCount("([[Ljava/lang/String;)I"),
                GovernedMethodWeave.parameterCount("(JDLjava/lang/Object;)V"),
                GovernedMethodWeave.parameterCount("(I[J)V")});
        assertInstanceOf(byte[].class, GovernedMethodWeave.weave(original, FIXTURE, HOOKS));
    }
}
