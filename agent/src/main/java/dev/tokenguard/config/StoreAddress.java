package dev.tokenguard.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Where shared budgets live ({@code tokenguard.store}): {@link #MEMORY} for none (each JVM counts alone), or a Redis
 * server given as {@code redis://[[user]:password@]host[:port][/db]} ({@code rediss://} for TLS). The password is
 * never part of {@link #toString()}; it may also come from {@code TOKENGUARD_STORE_PASSWORD}, which wins over the URL.
 *
 * @param host     null for {@link #MEMORY}
 * @param password null when none
 */
public record StoreAddress(String host, int port, int database, boolean tls, String user, String password) {
    /** The variable that holds the store's password, so that it need not be written in the URL. */
    public static final String PASSWORD_VARIABLE = "TOKENGUARD_STORE_PASSWORD";
    public static final StoreAddress MEMORY = new StoreAddress(null, 0, 0, false, null, null);

    /** Whether budgets stay in this JVM. */
    public boolean memory() {
        return host == null;
    }

    /** This address with the password from the environment, when it is set there. */
    public StoreAddress withPasswordFrom(java.util.Map<String, String> environment) {
        String p = environment.get(PASSWORD_VARIABLE);
        return memory() || p == null || p.isEmpty() ? this : new StoreAddress(host, port, database, tls, user, p);
    }

    /** Parses {@code memory} or a Redis URL; the message of a failure never repeats the password. */
    static StoreAddress parse(String text) {
        if (text.equals("memory")) {
            return MEMORY;
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL");
        }
        String scheme = uri.getScheme();
        if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
            throw new IllegalArgumentException("unknown store");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("no host");
        }
        int port = uri.getPort() < 0 ? 6379 : uri.getPort();
        int db = 0;
        String path = uri.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            try {
                db = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                db = -1;
            }
            if (db < 0 || db > 1_000_000) {
                throw new IllegalArgumentException("the path must be a database number");
            }
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("no query or fragment is read");
        }
        String user = null;
        String password = null;
        String info = uri.getRawUserInfo();
        if (info != null) {
            int colon = info.indexOf(':');
            String u = colon < 0 ? "" : decode(info.substring(0, colon));
            password = decode(colon < 0 ? info : info.substring(colon + 1));
            user = u.isEmpty() ? null : u;
            if (password.isEmpty()) {
                password = null;
            }
        }
        return new StoreAddress(host, port, db, scheme.equals("rediss"), user, password);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The URL without its credentials, e.g. {@code redis://127.0.0.1:6379/0}. */
    @Override
    public String toString() {
        return memory() ? "memory" : (tls ? "rediss://" : "redis://") + host + ":" + port + "/" + database;
    }
}
