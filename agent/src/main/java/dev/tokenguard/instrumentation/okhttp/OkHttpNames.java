package dev.tokenguard.instrumentation.okhttp;

/**
 * The binary names of the application's OkHttp and Okio classes. The agent jar carries a relocated
 * OkHttp of its own (for OTLP/gRPC export), and the relocation rewrites every string constant that
 * starts with {@code okhttp3} or {@code okio}; names built at run time keep pointing at the app's
 * classes.
 */
public final class OkHttpNames {
    private static final String OKHTTP = "ok".concat("http3.");
    private static final String OKIO = "ok".concat("io.");

    private OkHttpNames() {
    }

    /** e.g. {@code okhttp("Request")} is {@code okhttp3.Request}. */
    public static String okhttp(String name) {
        return OKHTTP + name;
    }

    /** e.g. {@code okio("Buffer")} is {@code okio.Buffer}. */
    public static String okio(String name) {
        return OKIO + name;
    }
}
