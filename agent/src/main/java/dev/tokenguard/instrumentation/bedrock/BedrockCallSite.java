package dev.tokenguard.instrumentation.bedrock;

import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.SdkObjects;

import java.net.URI;

/** Starts governing one Bedrock Runtime call: the request's model id, the client's endpoint. */
final class BedrockCallSite implements CallSite {
    private final BedrockApi api;
    private final boolean async;
    private final Governor governor;

    BedrockCallSite(BedrockApi api, boolean async, Governor governor) {
        this.api = api;
        this.async = async;
        this.governor = governor;
    }

    @Override
    public Object enter(Object client, Object request) {
        String modelId = SdkObjects.text(request, "modelId");
        Object config = SdkObjects.get(client, "serviceClientConfiguration");
        String host = null;
        Integer port = null;
        if (SdkObjects.get(config, "endpointOverride") instanceof URI endpoint && endpoint.getHost() != null) {
            host = endpoint.getHost();
            port = endpoint.getPort() >= 0 ? endpoint.getPort() : "http".equals(endpoint.getScheme()) ? 80 : 443;
        } else {
            String region = SdkObjects.text(SdkObjects.get(config, "region"), "id");
            if (region != null) {
                host = "bedrock-runtime." + region + ".amazonaws.com";
                port = 443;
            }
        }
        CallRequest call = new CallRequest(BedrockPlugin.DECLARATION.provider(), api.operation(modelId), modelId,
                api.streaming, host, port);
        Object started = governor.begin(call);
        return started instanceof LlmCall llm ? new BedrockCall(api, async, llm, request) : started;
    }
}
