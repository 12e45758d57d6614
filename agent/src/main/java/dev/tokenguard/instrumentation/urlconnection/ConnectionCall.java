package dev.tokenguard.instrumentation.urlconnection;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.ObservedBodyStream;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;

/**
 * What the agent knows of one connection's request to a known LLM endpoint, from the first hooked call
 * to the end of its response: the streaming mode, the headers, the body the app wrote, and, once
 * decided, the governed call or the refusal. It never holds the connection itself (the connection's
 * streams only weakly), so it goes when the connection goes.
 */
final class ConnectionCall {
    boolean streamingMode;
    Map<String, List<String>> headers;
    HeldOutputStream body;
    boolean decided;
    HttpLlmCall call;
    BudgetExhaustedException refusal;
    private WeakReference<InputStream> raw = new WeakReference<>(null);
    private WeakReference<ObservedBodyStream> observed = new WeakReference<>(null);

    /** The stream the app writes the body to, in front of {@code target} (the same one for the same target). */
    synchronized OutputStream hold(OutputStream target) {
        if (body == null || body.target() != target) {
            body = new HeldOutputStream(target, !streamingMode);
        }
        return body;
    }

    /** The stream the app reads the response from, observing {@code in} (the same one for the same stream). */
    synchronized InputStream observe(InputStream in) {
        if (in == null || call == null) {
            return in;
        }
        ObservedBodyStream current = observed.get();
        if (current != null && raw.get() == in) {
            return current;
        }
        ObservedBodyStream created = new ObservedBodyStream(in, call);
        raw = new WeakReference<>(in);
        observed = new WeakReference<>(created);
        return created;
    }
}
