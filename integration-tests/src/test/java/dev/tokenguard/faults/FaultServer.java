package dev.tokenguard.faults;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback OpenAI chat completions endpoint that misbehaves on purpose. The first path segment names the
 * behaviour ({@code http://127.0.0.1:<port>/<mode>/v1} is the base URL an openai-java client takes), so one
 * server serves every fault of a run at once.
 *
 * <p>Every answer it generates costs {@value #INPUT} input and {@value #OUTPUT} output tokens, whether or not it
 * manages to tell the client so; its ledger ({@link #billed}) is the independent figure the charged tokens are
 * compared with. A refused attempt (429, 500) costs nothing.
 */
final class FaultServer implements AutoCloseable {
    static final long INPUT = 11;
    static final long OUTPUT = 7;
    static final String TEXT = "Fault matrix answer.";
    static final String[] PIECES = {"Fault", " matrix", " answer."};
    /** 2^62: a usage figure no provider ever reports, that overflows any sum of two of them. */
    static final long ABSURD = 1L << 62;
    /** The size of the {@code huge} answer's content: 50 MB. */
    static final int HUGE_CHARS = 50 * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;
    private final CountDownLatch closing = new CountDownLatch(1);
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> billed = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final Object arrivals = new Object();

    FaultServer() throws IOException {
        AtomicInteger threads = new AtomicInteger();
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fault-server-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** The base URL of one behaviour, e.g. {@code http://127.0.0.1:4711/malformed-json/v1}. */
    String baseUrl(String mode) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + mode + "/v1";
    }

    /** The server's root URL, {@code http://127.0.0.1:<port>}, under which every behaviour's base URL lies. */
    String root() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The tokens the server generated (and so billed) for {@code mode} since the last {@link #reset}. */
    long billed(String mode) {
        AtomicLong b = billed.get(mode);
        return b == null ? 0 : b.get();
    }

    /** The requests {@code mode} received since the last {@link #reset}. */
    int attempts(String mode) {
        AtomicInteger a = attempts.get(mode);
        return a == null ? 0 : a.get();
    }

    /** Every request received since the last reset, whatever its mode. */
    int requests() {
        return requests.get();
    }

    /** Waits until at least {@code count} requests arrived since the last reset; false after {@code seconds}. */
    boolean awaitRequests(int count, long seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (arrivals) {
            while (requests.get() < count) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(arrivals, left);
            }
        }
        return true;
    }

    void reset() {
        attempts.clear();
        billed.clear();
        requests.set(0);
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            byte[] body = exchange.getRequestBody().readAllBytes();
            String[] parts = path.split("/");
            if (parts.length < 2 || !path.endsWith("/v1/chat/completions")) {
                send(exchange, 404, error("Invalid URL (POST " + path + ")", "invalid_request_error"));
                return;
            }
            String mode = parts[1];
            int attempt = attempts.computeIfAbsent(mode, k -> new AtomicInteger()).incrementAndGet();
            synchronized (arrivals) {
                requests.incrementAndGet();
                arrivals.notifyAll();
            }
            ObjectNode request = (ObjectNode) JSON.readTree(body);
            boolean stream = request.path("stream").asBoolean(false);
            boolean asked = request.path("stream_options").path("include_usage").asBoolean(false);
            int tilde = mode.indexOf('~');
            answer(exchange, mode, tilde < 0 ? mode : mode.substring(0, tilde), attempt, stream, asked);
        } catch (IOException e) {
            // the client went away (a timeout, an early close, a killed JVM): nothing to answer
        }
    }

    private void bill(String mode) {
        billed.computeIfAbsent(mode, k -> new AtomicLong()).addAndGet(INPUT + OUTPUT);
    }

    private void answer(HttpExchange ex, String mode, String behaviour, int attempt, boolean stream, boolean asked)
            throws IOException {
        switch (behaviour) {
            case "ok", "threads" -> {
                bill(mode);
                if (stream) {
                    stream(ex, chunks(asked, asked));
                } else {
                    send(ex, 200, completion(usage(INPUT, OUTPUT)));
                }
            }
            case "malformed-json" -> {
                bill(mode);
                sendRaw(ex, 200, "application/json", "{\"id\":\"chatcmpl-fault\",\"object\":\"chat.completion\","
                        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Fault");
            }
            case "usage-missing", "usage-null", "usage-renamed", "usage-negative", "usage-absurd" -> {
                bill(mode);
                ObjectNode usage = switch (behaviour) {
                    case "usage-missing" -> null;
                    case "usage-null" -> null;
                    case "usage-renamed" -> renamed();
                    case "usage-negative" -> usage(-INPUT, -OUTPUT);
                    default -> usage(ABSURD, ABSURD);
                };
                if (stream) {
                    stream(ex, usageChunks(behaviour, usage, asked));
                } else {
                    ObjectNode c = completion(null);
                    if (behaviour.equals("usage-null")) {
                        c.putNull("usage");
                    } else if (usage != null) {
                        c.set("usage", usage);
                    }
                    send(ex, 200, c);
                }
            }
            case "stream-cut" -> {
                bill(mode);
                OutputStream out = startStream(ex);
                writeEvent(out, chunk(PIECES[0], null, asked));
                out.write("data: {\"id\":\"chatcmpl-fault\",\"object\":\"chat.completion.chunk\",\"choi"
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                // the connection ends here, mid-event (try-with-resources closes the exchange)
            }
            case "error-event" -> {
                bill(mode);
                OutputStream out = startStream(ex);
                writeEvent(out, chunk(PIECES[0], null, asked));
                writeEvent(out, chunk(PIECES[1], null, asked));
                out.write(("event: error\ndata: " + JSON.writeValueAsString(error(
                        "The server had an error while processing your request.", "server_error")) + "\n\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                writeEvent(out, "[DONE]");
            }
            case "status-429", "status-429-retried", "status-500", "status-500-retried" -> {
                // every odd attempt is refused, every even one answered: one retry gets through
                if (attempt % 2 == 1) {
                    boolean limited = behaviour.startsWith("status-429");
                    ex.getResponseHeaders().set("retry-after-ms", "10");
                    send(ex, limited ? 429 : 500, limited
                            ? error("Rate limit reached for requests. Please try again in 10ms.", "requests")
                            : error("The server had an error while processing your request.", "server_error"));
                } else {
                    bill(mode);
                    if (stream) {
                        stream(ex, chunks(asked, asked));
                    } else {
                        send(ex, 200, completion(usage(INPUT, OUTPUT)));
                    }
                }
            }
            case "never-ends" -> {
                bill(mode);
                if (stream) {
                    OutputStream out = startStream(ex);
                    writeEvent(out, chunk(PIECES[0], null, asked));
                } else {
                    ex.getResponseHeaders().set("content-type", "application/json");
                    ex.sendResponseHeaders(200, 0);
                    ex.getResponseBody().write("{\"id\":\"chatcmpl-fault\",".getBytes(StandardCharsets.UTF_8));
                    ex.getResponseBody().flush();
                }
                try {
                    closing.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            case "huge", "huge-string" -> {
                bill(mode);
                sendBytes(ex, 200, hugeBody(behaviour.equals("huge") ? 5 : 1));
            }
            case "usage-unasked" -> {
                // an OpenAI-compatible gateway that appends its own usage chunk to every stream, after the one its
                // upstream adds when the request asks for usage
                bill(mode);
                if (stream) {
                    List<ObjectNode> chunks = chunks(asked, asked);
                    chunks.add(usageOnly(usage(INPUT, OUTPUT)));
                    stream(ex, chunks);
                } else {
                    send(ex, 200, completion(usage(INPUT, OUTPUT)));
                }
            }
            case "usage-once" -> {
                // an OpenAI-compatible gateway that sends its upstream's usage chunk on every stream, asked or not
                // (a forced include_usage): one usage chunk either way, the same bytes as a server that honours the ask
                bill(mode);
                if (stream) {
                    stream(ex, chunks(asked, true));
                } else {
                    send(ex, 200, completion(usage(INPUT, OUTPUT)));
                }
            }
            case "slow-stream" -> {
                // a stream paced by the server, so that a JVM killed by the harness often dies inside one
                bill(mode);
                if (!stream) {
                    send(ex, 200, completion(usage(INPUT, OUTPUT)));
                    return;
                }
                OutputStream out = startStream(ex);
                for (ObjectNode c : chunks(asked, asked)) {
                    writeEvent(out, JSON.writeValueAsString(c));
                    pause(15);
                }
                writeEvent(out, "[DONE]");
            }
            default -> send(ex, 404, error("Unknown fault mode " + mode, "invalid_request_error"));
        }
    }

    private void pause(long millis) {
        try {
            closing.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ObjectNode usage(long input, long output) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", input);
        u.put("completion_tokens", output);
        u.put("total_tokens", input + output);
        return u;
    }

    private static ObjectNode renamed() {
        ObjectNode u = JSON.createObjectNode();
        u.put("in_tokens", INPUT);
        u.put("out_tokens", OUTPUT);
        u.put("total", INPUT + OUTPUT);
        return u;
    }

    private static ObjectNode completion(ObjectNode usage) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", "chatcmpl-fault");
        c.put("object", "chat.completion");
        c.put("created", 1_767_225_600L);
        c.put("model", "gpt-4o-mini-2024-07-18");
        ArrayNode choices = c.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", TEXT);
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", "stop");
        if (usage != null) {
            c.set("usage", usage);
        }
        return c;
    }

    private static ObjectNode chunk(String piece, String finish, boolean usageNull) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", "chatcmpl-fault");
        c.put("object", "chat.completion.chunk");
        c.put("created", 1_767_225_600L);
        c.put("model", "gpt-4o-mini-2024-07-18");
        ObjectNode choice = c.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (piece != null) {
            delta.put("content", piece);
        }
        choice.putNull("logprobs");
        if (finish != null) {
            choice.put("finish_reason", finish);
        } else {
            choice.putNull("finish_reason");
        }
        if (usageNull) {
            c.putNull("usage");
        }
        return c;
    }

    private static ObjectNode usageOnly(ObjectNode usage) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", "chatcmpl-fault");
        c.put("object", "chat.completion.chunk");
        c.put("created", 1_767_225_600L);
        c.put("model", "gpt-4o-mini-2024-07-18");
        c.putArray("choices");
        c.set("usage", usage);
        return c;
    }

    /** The chunks of a stream; {@code usageNull}: the others carry {@code "usage":null} (as asked streams do). */
    private static List<ObjectNode> chunks(boolean usageNull, boolean usageChunk) {
        List<ObjectNode> list = new ArrayList<>();
        for (String piece : PIECES) {
            list.add(chunk(piece, null, usageNull));
        }
        list.add(chunk(null, "stop", usageNull));
        if (usageChunk) {
            list.add(usageOnly(usage(INPUT, OUTPUT)));
        }
        return list;
    }

    /** A stream whose usage chunk (sent when asked) carries {@code mode}'s broken usage. */
    private static List<ObjectNode> usageChunks(String mode, ObjectNode usage, boolean asked) {
        List<ObjectNode> list = chunks(asked, false);
        if (asked) {
            ObjectNode last = usageOnly(usage(0, 0));
            if (usage == null) {
                if (mode.equals("usage-null")) {
                    last.putNull("usage");
                } else {
                    last.remove("usage");
                }
            } else {
                last.set("usage", usage);
            }
            list.add(last);
        }
        return list;
    }

    private static ObjectNode error(String message, String type) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", message);
        e.put("type", type);
        e.putNull("param");
        e.putNull("code");
        return root;
    }

    private static void stream(HttpExchange ex, List<ObjectNode> chunks) throws IOException {
        OutputStream out = startStream(ex);
        for (ObjectNode c : chunks) {
            writeEvent(out, JSON.writeValueAsString(c));
        }
        writeEvent(out, "[DONE]");
    }

    private static OutputStream startStream(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("content-type", "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        return ex.getResponseBody();
    }

    private static void writeEvent(OutputStream out, ObjectNode chunk) throws IOException {
        writeEvent(out, JSON.writeValueAsString(chunk));
    }

    private static void writeEvent(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void send(HttpExchange ex, int status, ObjectNode body) throws IOException {
        sendRaw(ex, status, "application/json", JSON.writeValueAsString(body));
    }

    private static final Map<Integer, byte[]> HUGE = new ConcurrentHashMap<>();

    /**
     * A chat completion of {@value #HUGE_CHARS} characters of {@code x} in {@code choices} choices of equal length
     * (one 50 MB string is more than the SDK's JSON reader takes; five strings of 10 MB are not).
     */
    private static byte[] hugeBody(int choices) {
        return HUGE.computeIfAbsent(choices, n -> {
            ObjectNode c = completion(usage(INPUT, OUTPUT));
            ArrayNode all = (ArrayNode) c.path("choices");
            ObjectNode first = (ObjectNode) all.get(0);
            all.removeAll();
            String content = "x".repeat(HUGE_CHARS / n);
            for (int i = 0; i < n; i++) {
                ObjectNode choice = first.deepCopy();
                choice.put("index", i);
                ((ObjectNode) choice.path("message")).put("content", content);
                all.add(choice);
            }
            try {
                return JSON.writeValueAsBytes(c);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static void sendBytes(HttpExchange ex, int status, byte[] bytes) throws IOException {
        ex.getResponseHeaders().set("content-type", "application/json");
        ex.getResponseHeaders().set("x-request-id", "req_fault");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sendRaw(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("content-type", type);
        ex.getResponseHeaders().set("x-request-id", "req_fault");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
