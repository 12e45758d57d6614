package dev.tokenguard.instrumentation.urlconnection;

import java.net.HttpURLConnection;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The {@link ConnectionCall} of each connection the agent governs, for as long as the connection lives
 * ({@code HttpURLConnection} keeps {@code Object}'s identity equality, so a weak map serves).
 */
final class ConnectionCalls {
    private static final Map<HttpURLConnection, ConnectionCall> CALLS = Collections.synchronizedMap(new WeakHashMap<>());

    private ConnectionCalls() {
    }

    /** The connection's call, or null when none began. */
    static ConnectionCall find(HttpURLConnection connection) {
        return CALLS.get(connection);
    }

    /** The connection's call, made when none began. */
    static ConnectionCall of(HttpURLConnection connection) {
        return CALLS.computeIfAbsent(connection, c -> new ConnectionCall());
    }
}
