package dev.tokenguard.instrumentation.stainless;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.CallerFrames;
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

    /**
     * What the last call read of its client's base URL; a call whose client has the same base URL text reuses it
     * instead of parsing the URL again.
     */
    private volatile Endpoint lastEndpoint;

    /** A base URL's text and what a call takes from it. */
    private record Endpoint(String text, URI uri, String host, Integer port, String provider, String streamEndpoint) {
    }

    @Override
    public Object enter(Object service, Object params) {
        Endpoint e = endpoint(service);
        boolean reserves = governor.settings().reservations().on();
        CallRequest request = new CallRequest(e.provider(), site.api().operation(),
                StainlessRequests.model(params), site.streaming(), e.host(), e.port(),
                reserves ? StainlessRequests.outputCap(params) : null, reserves ? new Input(params) : null);
        CallerFrames frames = governor.settings().callSites();
        Object started;
        if (frames != null && governor.governing()) {
            try {
                frames.findAhead(); // here the walk passes two frames fewer than from the governor
            } catch (RuntimeException ex) {
                AgentLog.failure("call-site", ex);
            }
            try {
                started = governor.begin(request);
            } finally {
                frames.dropAhead(); // not taken when the call did not get that far
            }
        } else {
            started = governor.begin(request);
        }
        return started instanceof LlmCall call
                ? new StainlessCall(site, call, params, e.streamEndpoint()) : started;
    }

    private Endpoint endpoint(Object service) {
        String text = StainlessRequests.baseUrlText(service);
        Endpoint last = lastEndpoint;
        if (last != null && java.util.Objects.equals(last.text(), text)) {
            return last;
        }
        URI baseUrl = StainlessRequests.uri(text);
        String host = baseUrl == null ? null : baseUrl.getHost();
        Integer port = null;
        if (host != null) {
            int p = baseUrl.getPort();
            port = p >= 0 ? p : ("http".equals(baseUrl.getScheme()) ? 80 : 443);
        }
        Endpoint e = new Endpoint(text, baseUrl, host, port, site.sdk().provider().apply(baseUrl),
                UnaskedStreamUsage.endpoint(baseUrl));
        lastEndpoint = e;
        return e;
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
