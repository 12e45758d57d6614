package dev.tokenguard.core;

/**
 * What an instrumentation knows of a call before it leaves the JVM.
 *
 * @param provider      GenAI provider name, e.g. {@code openai}
 * @param operation     GenAI operation name, e.g. {@code chat}
 * @param requestModel  the requested model, or null
 * @param streaming     whether the call streams
 * @param serverAddress the host, or null
 * @param serverPort    the port, or null
 * @param outputCap     the request's own output cap ({@code max_tokens}, {@code max_completion_tokens},
 *                      {@code max_output_tokens}, ...), or null when it sets none or it is unknown: the call then
 *                      reserves {@code tokenguard.budget.reserve-output}
 * @param input         the request's input (messages, input, prompt) as its reservation reads it: a bound of its
 *                      tokens, and its text counted locally when the bound is too coarse; null when unknown (the
 *                      input then reserves nothing)
 */
public record CallRequest(String provider, String operation, String requestModel, boolean streaming,
                          String serverAddress, Integer serverPort, Long outputCap, RequestInput input) {

    /** A request whose input text is known (or null when unknown). */
    public CallRequest(String provider, String operation, String requestModel, boolean streaming,
                       String serverAddress, Integer serverPort, Long outputCap, String promptText) {
        this(provider, operation, requestModel, streaming, serverAddress, serverPort, outputCap,
                RequestInput.ofText(promptText));
    }

    /** A request whose output cap and input text are unknown. */
    public CallRequest(String provider, String operation, String requestModel, boolean streaming,
                       String serverAddress, Integer serverPort) {
        this(provider, operation, requestModel, streaming, serverAddress, serverPort, null, (RequestInput) null);
    }

    /** How a refusal names the call, e.g. {@code openai chat gpt-4o}. */
    public String describe() {
        return provider + " " + operation + " " + (requestModel == null ? "(unknown model)" : requestModel);
    }

    /** The text of the request's input, read now; null when unknown. */
    public String promptText() {
        return input == null ? null : input.text();
    }

    @Override
    public String toString() {
        // the prompt stays out of anything printed
        return "CallRequest[" + describe() + (streaming ? ", streaming" : "") + ", server " + serverAddress + ":"
                + serverPort + ", output cap " + outputCap + ", prompt " + (input == null ? "unknown" : "known") + "]";
    }
}
