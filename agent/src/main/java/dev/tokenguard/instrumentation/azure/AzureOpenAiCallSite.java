package dev.tokenguard.instrumentation.azure;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.LlmRoute;
import dev.tokenguard.instrumentation.http.WireApi;

import java.net.URI;

/**
 * Starts governing one protocol call of the Azure OpenAI SDK's implementation: its arguments are the deployment
 * (Azure OpenAI) or model (OpenAI) name, the JSON body and the request options. The deployment is the requested
 * model, as the request names none; the provider is {@code azure.ai.openai} for Azure OpenAI and {@code openai}
 * for OpenAI itself, reached through this SDK.
 */
final class AzureOpenAiCallSite implements CallSite {
    /** The host the SDK's OpenAI (non-Azure) client always calls. */
    private static final URI OPENAI_ENDPOINT = URI.create("https://api.openai.com/v1");

    private final boolean azure;
    private final WireApi api;
    private final boolean async;
    private final Governor governor;

    AzureOpenAiCallSite(boolean azure, WireApi api, boolean async, Governor governor) {
        this.azure = azure;
        this.api = api;
        this.async = async;
        this.governor = governor;
    }

    @Override
    public Object enter(Object client, Object request) {
        if (!(request instanceof Object[] args) || args.length != 3 || !(args[0] instanceof String deployment)) {
            return null;
        }
        AzureCore core = AzureCore.of(client);
        if (core == null) {
            AgentLog.failure("azure-ai-openai.core", "TokenGuard: azure-ai-openai: the azure-core or Reactor API"
                    + " this plugin reads is missing; the SDK's calls are not governed");
            return null;
        }
        URI endpoint = azure ? endpoint(client) : OPENAI_ENDPOINT;
        String host = endpoint == null ? null : endpoint.getHost();
        int port = endpoint == null ? -1 : endpoint.getPort() >= 0 ? endpoint.getPort()
                : "http".equalsIgnoreCase(endpoint.getScheme()) ? 80 : 443;
        LlmRoute route = new LlmRoute(azure ? "azure.ai.openai" : "openai", api, deployment, false, true, host,
                port);
        // a chat stream that does not ask for usage: asked (and the chunk hidden) on Azure's own hosts and the OpenAI
        // client's; to any other endpoint (a gateway the Azure client was pointed at) as UnaskedStreamUsage learns it
        String learnt = azure ? UnaskedStreamUsage.endpoint(endpoint) : null;
        Object started = HttpLlmCall.start(governor, route, core.bytes(args[1]), learnt);
        return started instanceof HttpLlmCall call ? new AzureOpenAiCall(core, call, async) : started;
    }

    private static URI endpoint(Object client) {
        Object endpoint = SdkObjects.get(client, "getEndpoint");
        if (!(endpoint instanceof String s)) {
            return null;
        }
        try {
            URI uri = URI.create(s);
            return uri.getHost() == null ? null : uri;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
