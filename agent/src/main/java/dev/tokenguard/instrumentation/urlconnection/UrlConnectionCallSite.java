package dev.tokenguard.instrumentation.urlconnection;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.http.HttpLayer;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;

/**
 * One hooked method of {@code HttpURLConnection} (see {@link HttpUrlConnectionPlugin}); all of them
 * work on the connection's {@link ConnectionCall}. Only the JDK's own connections are governed, and a
 * connection's call is decided once: a refused connection refuses every later attempt to send.
 */
final class UrlConnectionCallSite implements CallSite {
    private static final ClassValue<Boolean> JDK_CONNECTION = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                if (c.getName().equals(HttpUrlConnectionPlugin.SUN)) {
                    return true;
                }
            }
            return false;
        }
    };

    private final String method;
    private final HttpLayer layer;

    UrlConnectionCallSite(String method, Governor governor) {
        this.method = method;
        this.layer = new HttpLayer(governor);
    }

    @Override
    public Object enter(Object target, Object ignored) {
        if (GovernedThread.active() || !(target instanceof HttpURLConnection connection)
                || !JDK_CONNECTION.get(target.getClass())) {
            return null;
        }
        return switch (method) {
            case "setFixedLengthStreamingMode", "setChunkedStreamingMode" -> streamingMode(connection);
            case "getOutputStream" -> output(connection);
            case "getInputStream", "getResponseCode" -> send(connection);
            case "disconnect" -> disconnect(connection);
            default -> null;
        };
    }

    private Object streamingMode(HttpURLConnection connection) {
        if (layer.governs("POST", uri(connection), null)) {
            ConnectionCalls.of(connection).streamingMode = true;
        }
        return null;
    }

    /** The body is about to be written: kept (and the call decided now, in a streaming mode). */
    private Object output(HttpURLConnection connection) {
        ConnectionCall state = ConnectionCalls.find(connection);
        if (state != null && state.decided) {
            return state.refusal;
        }
        // getOutputStream turns a GET into a POST
        String verb = "GET".equals(connection.getRequestMethod()) ? "POST" : connection.getRequestMethod();
        URI uri = uri(connection);
        if (!layer.governs(verb, uri, null)) {
            return null;
        }
        Map<String, List<String>> headers = requestHeaders(connection);
        if (!layer.governs(verb, uri, headers)) {
            return null;
        }
        state = ConnectionCalls.of(connection);
        synchronized (state) {
            state.headers = headers;
            if (state.streamingMode) {
                // the headers leave with this call, the body as it is written: decided without the body
                Object decision = decide(state, verb, uri, null);
                if (!(decision instanceof HttpLlmCall)) {
                    return decision instanceof BudgetExhaustedException refusal ? refusal : null;
                }
            }
        }
        return new Written(state);
    }

    /** The request is about to leave (or its response to be read): decided on the first such call. */
    private Object send(HttpURLConnection connection) {
        ConnectionCall state = ConnectionCalls.find(connection);
        String verb = connection.getRequestMethod();
        URI uri = uri(connection);
        if (state == null) {
            if (!layer.governs(verb, uri, null)) {
                return null;
            }
            Map<String, List<String>> headers = requestHeaders(connection);
            if (!layer.governs(verb, uri, headers)) {
                return null;
            }
            state = ConnectionCalls.of(connection);
            synchronized (state) {
                if (state.headers == null) {
                    state.headers = headers;
                }
            }
        }
        synchronized (state) {
            if (!state.decided) {
                byte[] body = state.body == null ? null : state.body.bytes();
                Object decision = decide(state, verb, uri, body);
                if (decision instanceof HttpLlmCall call && call.bodyChanged() && state.body != null) {
                    state.body.replace(call.body());
                }
            } else if (state.call != null && state.body != null) {
                state.call.bodySent(state.body.bytes()); // written after the call was decided (streaming mode)
            }
            release(state);
            if (state.refusal != null) {
                return state.refusal;
            }
            return state.call == null ? null : new Received(state, connection, method.equals("getResponseCode"));
        }
    }

    private Object disconnect(HttpURLConnection connection) {
        ConnectionCall state = ConnectionCalls.find(connection);
        HttpLlmCall call = state == null ? null : state.call;
        if (call != null) {
            call.end(null);
        }
        return null;
    }

    private Object decide(ConnectionCall state, String verb, URI uri, byte[] body) {
        Object begun = layer.begin(verb, uri, state.headers, body);
        state.decided = true;
        if (begun instanceof BudgetExhaustedException refusal) {
            state.refusal = refusal;
        } else if (begun instanceof HttpLlmCall call) {
            state.call = call;
        }
        return begun;
    }

    private static void release(ConnectionCall state) {
        if (state.body != null) {
            try {
                state.body.release();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static URI uri(HttpURLConnection connection) {
        try {
            return connection.getURL().toURI();
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** The request headers the app set (the JDK leaves out credentials), or null once connected. */
    private static Map<String, List<String>> requestHeaders(HttpURLConnection connection) {
        try {
            return connection.getRequestProperties();
        } catch (IllegalStateException e) {
            return null;
        }
    }

    /** The connection's status, read without governing the reads it makes inside. */
    static int status(HttpURLConnection connection) {
        GovernedThread.enter();
        try {
            return connection.getResponseCode();
        } catch (IOException | RuntimeException e) {
            return -1;
        } finally {
            GovernedThread.exit();
        }
    }

    /** {@code getOutputStream()}: the app writes through a {@link HeldOutputStream}. */
    private static final class Written implements GovernedCall {
        private final ConnectionCall state;

        Written(ConnectionCall state) {
            this.state = state;
        }

        @Override
        public Object request(Object request) {
            return request;
        }

        @Override
        public Object exit(Object returned, Throwable thrown) {
            if (thrown == null && returned instanceof OutputStream out) {
                synchronized (state) {
                    return state.decided && !state.streamingMode ? out : state.hold(out);
                }
            }
            return returned;
        }
    }

    /** {@code getResponseCode()} / {@code getInputStream()} of a governed connection. */
    private static final class Received implements GovernedCall {
        private final ConnectionCall state;
        private final HttpURLConnection connection;
        private final boolean responseCode;

        Received(ConnectionCall state, HttpURLConnection connection, boolean responseCode) {
            this.state = state;
            this.connection = connection;
            this.responseCode = responseCode;
        }

        @Override
        public Object request(Object request) {
            return request;
        }

        @Override
        public Object exit(Object returned, Throwable thrown) {
            HttpLlmCall call = state.call;
            if (thrown != null) {
                // an error status makes getInputStream throw; the call ends with that status
                int code = status(connection);
                if (code >= 400) {
                    call.status(code);
                    call.end(null);
                } else {
                    call.failed(thrown);
                }
                return returned;
            }
            int code = responseCode && returned instanceof Integer c ? c : status(connection);
            call.status(code);
            if (code >= 400 || code < 0) {
                call.end(null); // no usage in an error's body: ended now, whether or not the app reads it
                return returned;
            }
            return returned instanceof InputStream in ? state.observe(in) : returned;
        }
    }
}
