package dev.tokenguard.instrumentation.http;

/**
 * What {@link KnownEndpoints} decided about a request it governs.
 *
 * @param provider           GenAI provider name ({@code gen_ai.provider.name}), e.g. {@code openai}
 * @param api                the API the request's path names, which fixes the wire format and the operation
 * @param pathModel          the model the path names (Gemini {@code models/<model>:generateContent}, an Azure
 *                           deployment), or null when the model is only in the body
 * @param streamingPath      whether the path alone asks for a stream (Gemini {@code :streamGenerateContent})
 * @param asksForStreamUsage whether, for an OpenAI chat stream, the agent may add
 *                           {@code stream_options.include_usage}: true only where the server is known to accept it
 *                           and to report usage only when asked
 * @param serverAddress      host of the request ({@code server.address})
 * @param serverPort         port of the request, the scheme's default when the URL gives none ({@code server.port})
 */
public record LlmRoute(String provider, WireApi api, String pathModel, boolean streamingPath,
                       boolean asksForStreamUsage, String serverAddress, int serverPort) {

    public WireFormat format() {
        return api.format();
    }

    public String operation() {
        return api.operation();
    }
}
