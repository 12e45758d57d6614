package dev.tokenguard.sample.stub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The JDK HTTP server a fake LLM server answers on: 127.0.0.1, a free port, daemon threads only
 * (a forgotten fake server never keeps a JVM alive), plus the few pieces of HTTP and SSE writing
 * that every fake provider shares.
 */
final class LoopbackEndpoint {

    private static final AtomicInteger ENDPOINTS = new AtomicInteger();

    private final String threadPrefix;
    private final HttpServer server;
    private final ExecutorService executor;

    private LoopbackEndpoint(String threadPrefix, HttpServer server, ExecutorService executor) {
        this.threadPrefix = threadPrefix;
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds 127.0.0.1 on a free port; nothing is served until {@link #serve}. Worker threads are
     * named {@code <name>-<n>-worker-<m>}.
     */
    static LoopbackEndpoint bind(String name) {
        String threadPrefix = name + "-" + ENDPOINTS.incrementAndGet();
        AtomicInteger threads = new AtomicInteger();
        ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, threadPrefix + "-worker-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        HttpServer httpServer;
        try {
            httpServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            executor.shutdownNow();
            throw new UncheckedIOException(name + " could not bind a loopback port: " + e.getMessage(), e);
        }
        httpServer.setExecutor(executor);
        return new LoopbackEndpoint(threadPrefix, httpServer, executor);
    }

    /** Starts answering every path with {@code handler}. */
    void serve(HttpHandler handler) {
        server.createContext("/", handler);
        // The JDK's dispatcher thread inherits the daemon flag of the thread that starts the server.
        Thread starter = new Thread(server::start, threadPrefix + "-starter");
        starter.setDaemon(true);
        starter.start();
        try {
            starter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while starting " + threadPrefix, e);
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /** The request headers with lower-case names (values are kept in memory only, never printed). */
    static Map<String, List<String>> lowerCaseHeaders(HttpExchange exchange) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        exchange.getRequestHeaders().forEach((name, values) ->
                headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(values));
        headers.replaceAll((name, values) -> List.copyOf(values));
        return headers;
    }

    /** Sends a JSON body with this status (the body's length known up front). */
    static void sendJson(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("content-type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** Sends the headers of a 200 {@code text/event-stream} answer and returns its body stream. */
    static OutputStream startEventStream(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("content-type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("cache-control", "no-cache");
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
    }

    /** Writes and flushes one SSE frame: an optional {@code event:} line and one {@code data:} line. */
    static void writeEvent(OutputStream out, String event, String data) throws IOException {
        StringBuilder frame = new StringBuilder();
        if (event != null) {
            frame.append("event: ").append(event).append('\n');
        }
        frame.append("data: ").append(data).append("\n\n");
        out.write(frame.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
