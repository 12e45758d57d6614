package dev.tokenguard.instrumentation;

import java.util.List;

/**
 * One instrumented type of a plugin: the public (or protected) methods of that type, taking
 * {@code parameterCount} parameters, that each make exactly one physical request. The shared advice reports the call as
 * {@code typeName.method} with the SDK object as target and the first argument as the request.
 *
 * @param typeName       the exact binary name of the instrumented type
 * @param methods        the instrumented methods' names
 * @param parameterCount how many parameters those methods take
 * @param layer          the layer the hook sits on
 * @param sites          makes the call site of each method
 */
public record Hook(String typeName, List<String> methods, int parameterCount, Layer layer, Shape shape,
                   CallSiteFactory sites) {

    /** What the shared advice passes to the call site, and what it lets the governed call replace. */
    public enum Shape {
        /** The first argument is the request, and may be replaced. */
        REQUEST,
        /** The first argument is the request and the second a handler; both may be replaced. */
        REQUEST_AND_HANDLER,
        /** The method takes no argument: the call site reads the request from the target. */
        TARGET,
        /**
         * The request is spread over the arguments, or is not the first one (an HTTP client's
         * {@code doExecute(host, request, context)}, a deployment name beside a JSON body): the call site gets
         * them all as one {@code Object[]}, and the governed call's {@code request} returns that array with any
         * of them replaced (or the same array, when it changes the argument objects themselves).
         */
        ARGUMENTS
    }

    public Hook {
        methods = List.copyOf(methods);
    }

    /** A hook whose methods take the request as their first argument. */
    public Hook(String typeName, List<String> methods, int parameterCount, Layer layer, CallSiteFactory sites) {
        this(typeName, methods, parameterCount, layer, Shape.REQUEST, sites);
    }

    /** The name the advice reports for {@code method}: {@code typeName.method}. */
    public String siteName(String method) {
        return typeName + "." + method;
    }
}
