package dev.tokenguard.faults;

import java.util.List;

/**
 * One server fault of the matrix: what the fake server does ({@code mode}, a behaviour of {@link FaultServer},
 * optionally with a {@code ~suffix} that only keeps its ledger apart), what the app does ({@code scenario}, a
 * scenario of {@link FaultApp}) and how its tokens must be charged ({@code charge}).
 */
record Fault(String name, String mode, String scenario, Charge charge, String description) {

    /** How the tokens the server billed for a row must be charged. */
    enum Charge {
        /** The server reported a readable usage for every answer: charged to the token. */
        EXACT,
        /**
         * Two streams that do not ask for usage, to an endpoint that sends none unasked: the first goes out as the app
         * built it (the agent learns from it that the endpoint sends no usage unasked) and is charged a local
         * estimate; every later one asks, and is charged to the token.
         */
        FIRST_ESTIMATED,
        /** No readable usage: a local estimate, or nothing where the server reported nothing. */
        ESTIMATED
    }

    /** Every server fault, in the order of the table. */
    static List<Fault> server() {
        Charge exact = Charge.EXACT;
        Charge estimated = Charge.ESTIMATED;
        return List.of(
                new Fault("ok", "ok", "chat", exact, "a well-formed answer (the control row)"),
                new Fault("ok-stream", "ok~stream", "streams", Charge.FIRST_ESTIMATED,
                        "two well-formed streams (the control row)"),
                new Fault("malformed-json", "malformed-json", "chat", estimated, "a 200 whose JSON body is cut off"),
                new Fault("usage-missing", "usage-missing", "chat", estimated, "no `usage` in the answer"),
                new Fault("usage-missing-stream", "usage-missing~stream", "streams", estimated,
                        "two streams whose usage chunk has no `usage`"),
                new Fault("usage-null", "usage-null", "chat", estimated, "`\"usage\": null`"),
                new Fault("usage-null-stream", "usage-null~stream", "streams", estimated,
                        "two streams whose usage chunk has `\"usage\": null`"),
                new Fault("usage-renamed", "usage-renamed", "chat", estimated, "usage fields renamed (`in_tokens`)"),
                new Fault("usage-renamed-stream", "usage-renamed~stream", "streams", estimated,
                        "two streams whose usage fields are renamed"),
                new Fault("usage-negative", "usage-negative", "chat", estimated, "negative usage (-11 / -7)"),
                new Fault("usage-negative-stream", "usage-negative~stream", "streams", estimated,
                        "two streams with negative usage"),
                new Fault("usage-absurd", "usage-absurd", "chat", estimated, "absurd usage (2^62 / 2^62)"),
                new Fault("usage-absurd-stream", "usage-absurd~stream", "streams", estimated,
                        "two streams with usage 2^62"),
                new Fault("stream-cut", "stream-cut", "stream", estimated, "an SSE stream cut in the middle of an event"),
                new Fault("error-event", "error-event", "stream", estimated, "an `error` event in the middle of a stream"),
                new Fault("429", "status-429", "chat", exact, "429, the app allows no retry"),
                new Fault("429-retried", "status-429-retried", "chat-retry", exact,
                        "429 once, the app allows 2 retries"),
                new Fault("500", "status-500", "chat", exact, "500, the app allows no retry"),
                new Fault("500-retried", "status-500-retried", "chat-retry", exact,
                        "500 once, the app allows 2 retries"),
                new Fault("500-retried-stream", "status-500-retried~stream", "streams-retry", Charge.FIRST_ESTIMATED,
                        "two streams, each refused once with a 500, the app allows 2 retries"),
                new Fault("never-ends", "never-ends", "chat-timeout", estimated,
                        "an answer that never ends (2 s client timeout)"),
                new Fault("never-ends-stream", "never-ends~stream", "stream-timeout", estimated,
                        "a stream that never ends (2 s client timeout)"),
                new Fault("huge", "huge", "chat", exact, "a 50 MB answer (five choices of 10 MB)"),
                new Fault("huge-string", "huge-string", "chat", estimated,
                        "a 50 MB answer in one string, more than the SDK's JSON reader takes"),
                new Fault("usage-unasked", "usage-unasked", "streams", exact,
                        "a gateway that appends its own usage chunk to every stream, asked or not (two streams)"),
                new Fault("usage-unasked-asked", "usage-unasked~asked", "stream-usage", exact,
                        "the same gateway, the app asks for usage itself"),
                new Fault("usage-once", "usage-once", "streams", exact,
                        "a gateway that sends exactly one usage chunk, asked or not (two streams)"),
                new Fault("usage-once-asked", "usage-once~asked", "stream-usage", exact,
                        "the same gateway, the app asks for usage itself"));
    }

    /**
     * The stream faults again, with an app that posts its chat streams with the JDK's own HTTP client (no SDK), so
     * that the agent's raw-HTTP layer governs them; each mode has an {@code ~http} ledger of its own.
     */
    static List<Fault> rawHttp() {
        return List.of(
                new Fault("http-ok-stream", "ok~http", "http-streams", Charge.FIRST_ESTIMATED,
                        "two well-formed streams (the control row)"),
                new Fault("http-usage-missing-stream", "usage-missing~http", "http-streams", Charge.ESTIMATED,
                        "two streams whose usage chunk has no `usage`"),
                new Fault("http-usage-null-stream", "usage-null~http", "http-streams", Charge.ESTIMATED,
                        "two streams whose usage chunk has `\"usage\": null`"),
                new Fault("http-usage-unasked", "usage-unasked~http", "http-streams", Charge.EXACT,
                        "a gateway that appends its own usage chunk to every stream, asked or not (two streams)"),
                new Fault("http-usage-once", "usage-once~http", "http-streams", Charge.EXACT,
                        "a gateway that sends exactly one usage chunk, asked or not (two streams)"));
    }

    /**
     * The stream faults again, with a Spring AI 1.x service that streams through its own {@code OpenAiApi}; each mode
     * has a {@code ~springai} ledger of its own.
     */
    static List<Fault> springAi() {
        return List.of(
                new Fault("springai-ok-stream", "ok~springai", "streams", Charge.FIRST_ESTIMATED,
                        "two well-formed streams (the control row)"),
                new Fault("springai-usage-missing-stream", "usage-missing~springai", "streams", Charge.ESTIMATED,
                        "two streams whose usage chunk has no `usage`"),
                new Fault("springai-usage-null-stream", "usage-null~springai", "streams", Charge.ESTIMATED,
                        "two streams whose usage chunk has `\"usage\": null`"),
                new Fault("springai-usage-unasked", "usage-unasked~springai", "streams", Charge.EXACT,
                        "a gateway that appends its own usage chunk to every stream, asked or not (two streams)"),
                new Fault("springai-usage-once", "usage-once~springai", "streams", Charge.EXACT,
                        "a gateway that sends exactly one usage chunk, asked or not (two streams)"));
    }

    /** The few cheapest rows that the default build runs too. */
    static List<Fault> smoke() {
        return server().stream().filter(f -> List.of("ok-stream", "malformed-json", "usage-absurd", "usage-unasked",
                "usage-once").contains(f.name())).toList();
    }

    /** The fake server's behaviour: the mode without its ledger suffix. */
    String behaviour() {
        int tilde = mode.indexOf('~');
        return tilde < 0 ? mode : mode.substring(0, tilde);
    }
}
