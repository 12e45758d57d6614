package dev.tokenguard.instrumentation.stainless;

import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.RequestInput;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;

import java.net.URI;

/** Starts governing one request at a {@link StainlessSite}. */
public final class StainlessCallSite implements CallSite {
    private final StainlessSite site;
    private final Governor governor;

    public StainlessCallSite(StainlessSite site, Governor governor) {
        this.site = site;
        this.governor = governor;
    }

    @Override
    public Object enter(Object service, Object params) {
        URI baseUrl = StainlessRequests.baseUrl(service);
        String host = baseUrl == null ? null : baseUrl.getHost();
        Integer port = null;
        if (host != null) {
            int p = baseUrl.getPort();
            port = p >= 0 ? p : ("http".equals(baseUrl.getScheme()) ? 80 : 443);
        }
        boolean reserves = governor.settings().reservations().on();
        CallRequest request = new CallRequest(site.sdk().provider().apply(baseUrl), site.api().operation(),
                StainlessRequests.model(params), site.streaming(), host, port,
                reserves ? StainlessRequests.outputCap(params) : null, reserves ? new Input(params) : null);
        Object started = governor.begin(request);
        return started instanceof LlmCall call
                ? new StainlessCall(site, call, params, UnaskedStreamUsage.endpoint(baseUrl)) : started;
    }

    /**
     * The request's input as its reservation reads it: the body's length in UTF-8 bytes (the SDK writes it into a
     * counting stream), and the text of its prompt fields only when asked.
     */
    private final class Input implements RequestInput {
        private final Object params;

        Input(Object params) {
            this.params = params;
        }

        @Override
        public long tokenBound() {
            return StainlessRequests.bodyLength(site.sdk(), params);
        }

        @Override
        public String text() {
            StainlessRequests.Reservable r = StainlessRequests.reservable(site.sdk(), params, site.api().promptFields());
            return r == null ? null : r.text();
        }
    }
}
