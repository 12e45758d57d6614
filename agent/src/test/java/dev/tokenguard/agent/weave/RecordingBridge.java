package dev.tokenguard.agent.weave;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/** Stands in for the agent's bridge: records what the woven code passes and answers as a test sets it up. */
public final class RecordingBridge {
    public static final List<String> EVENTS = new ArrayList<>();
    /** What {@code enter} returns; a RuntimeException other than a refusal is thrown instead. */
    public static Object call = "call";
    public static UnaryOperator<Object> request = UnaryOperator.identity();
    public static UnaryOperator<Object> argument = UnaryOperator.identity();
    public static UnaryOperator<Object> returned = UnaryOperator.identity();
    public static boolean exitFails;

    private RecordingBridge() {
    }

    public static void reset() {
        EVENTS.clear();
        call = "call";
        request = UnaryOperator.identity();
        argument = UnaryOperator.identity();
        returned = UnaryOperator.identity();
        exitFails = false;
    }

    public static Object enter(String site, Object target, Object request) {
        EVENTS.add("enter " + site + " " + target.getClass().getSimpleName() + " " + text(request));
        if (call instanceof IllegalStateException failure) {
            throw failure;
        }
        return call;
    }

    public static Object request(Object call, Object value) {
        EVENTS.add("request " + call + " " + text(value));
        return request.apply(value);
    }

    public static Object argument(Object call, int index, Object value) {
        EVENTS.add("argument " + call + " " + index + " " + text(value));
        return argument.apply(value);
    }

    public static Object exit(Object call, Object value, Throwable thrown) {
        EVENTS.add("exit " + (call instanceof Throwable ? "refusal" : call) + " " + text(value) + " "
                + (thrown == null ? "null" : thrown.getClass().getSimpleName()));
        if (exitFails) {
            throw new IllegalStateException("exit fails");
        }
        return returned.apply(value);
    }

    public static Throwable thrown(Object call, Throwable thrown) {
        return call instanceof Throwable refusal ? refusal : thrown;
    }

    private static String text(Object value) {
        return value instanceof Object[] array ? Arrays.deepToString(array)
                : value == null ? "null" : value.getClass().getSimpleName() + ":" + value;
    }
}
