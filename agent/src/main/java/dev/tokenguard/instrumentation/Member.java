package dev.tokenguard.instrumentation;

/**
 * A member of an SDK type that a plugin reads or calls by reflection. A version of the SDK in which
 * one is missing is not instrumented at all, so that no plugin is ever half-applied.
 *
 * @param typeName       the type's binary name
 * @param name           the method's or field's name
 * @param field          whether it is a field (declared by the type or a superclass)
 * @param parameterCount a method's parameter count, or -1 for any
 */
public record Member(String typeName, String name, boolean field, int parameterCount) {

    /** A method with any number of parameters, declared or inherited. */
    public static Member method(String typeName, String name) {
        return new Member(typeName, name, false, -1);
    }

    /** A method taking {@code parameterCount} parameters, declared or inherited. */
    public static Member method(String typeName, String name, int parameterCount) {
        return new Member(typeName, name, false, parameterCount);
    }

    /** A field, declared by the type or a superclass. */
    public static Member field(String typeName, String name) {
        return new Member(typeName, name, true, -1);
    }

    /** How a start-up line names it, e.g. {@code com.openai.models.ChatModel.asString()}. */
    public String describe() {
        return typeName + "." + name + (field ? "" : "()");
    }
}
