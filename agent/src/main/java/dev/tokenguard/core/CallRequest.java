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
 */
public record CallRequest(String provider, String operation, String requestModel, boolean streaming,
                          String serverAddress, Integer serverPort) {

    /** How a refusal names the call, e.g. {@code openai chat gpt-4o}. */
    public String describe() {
        return provider + " " + operation + " " + (requestModel == null ? "(unknown model)" : requestModel);
    }
}
