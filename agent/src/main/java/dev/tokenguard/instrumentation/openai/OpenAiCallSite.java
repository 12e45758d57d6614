package dev.tokenguard.instrumentation.openai;

import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.instrumentation.CallSite;

import java.net.URI;

/** Starts governing one openai-java request at one of the {@link OpenAiSite}s. */
final class OpenAiCallSite implements CallSite {
    private final OpenAiSite site;
    private final Governor governor;

    OpenAiCallSite(OpenAiSite site, Governor governor) {
        this.site = site;
        this.governor = governor;
    }

    @Override
    public Object enter(Object service, Object params) {
        URI baseUrl = OpenAiRequests.baseUrl(service);
        Integer port = null;
        if (baseUrl != null && baseUrl.getHost() != null) {
            int p = baseUrl.getPort();
            port = p >= 0 ? p : ("http".equals(baseUrl.getScheme()) ? 80 : 443);
        }
        CallRequest request = new CallRequest(OpenAiRequests.provider(baseUrl), site.api.operation,
                OpenAiRequests.model(params), site.streaming, baseUrl == null ? null : baseUrl.getHost(), port);
        Object started = governor.begin(request);
        return started instanceof LlmCall call ? new OpenAiCall(site, call, params) : started;
    }
}
