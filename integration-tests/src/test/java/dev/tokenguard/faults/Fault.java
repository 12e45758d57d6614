package dev.tokenguard.faults;

import java.util.List;

/**
 * One server fault of the matrix: what the fake server does ({@code mode}, a behaviour of {@link FaultServer},
 * optionally with a {@code ~suffix} that only keeps its ledger apart), what the app does ({@code scenario}, a
 * scenario of {@link FaultApp}) and whether the server reported a readable usage, so that the tokens charged must
 * equal the tokens billed exactly ({@code exactCharge}).
 */
record Fault(String name, String mode, String scenario, boolean exactCharge, String description) {

    /** Every server fault, in the order of the table. */
    static List<Fault> server() {
        return List.of(
                new Fault("ok", "ok", "chat", true, "a well-formed answer (the control row)"),
                new Fault("ok-stream", "ok~stream", "stream", true, "a well-formed stream (the control row)"),
                new Fault("malformed-json", "malformed-json", "chat", false, "a 200 whose JSON body is cut off"),
                new Fault("usage-missing", "usage-missing", "chat", false, "no `usage` in the answer"),
                new Fault("usage-missing-stream", "usage-missing~stream", "stream", false,
                        "a stream whose usage chunk has no `usage`"),
                new Fault("usage-null", "usage-null", "chat", false, "`\"usage\": null`"),
                new Fault("usage-null-stream", "usage-null~stream", "stream", false,
                        "a stream whose usage chunk has `\"usage\": null`"),
                new Fault("usage-renamed", "usage-renamed", "chat", false, "usage fields renamed (`in_tokens`)"),
                new Fault("usage-renamed-stream", "usage-renamed~stream", "stream", false,
                        "a stream whose usage fields are renamed"),
                new Fault("usage-negative", "usage-negative", "chat", false, "negative usage (-11 / -7)"),
                new Fault("usage-negative-stream", "usage-negative~stream", "stream", false,
                        "a stream with negative usage"),
                new Fault("usage-absurd", "usage-absurd", "chat", false, "absurd usage (2^62 / 2^62)"),
                new Fault("usage-absurd-stream", "usage-absurd~stream", "stream", false, "a stream with usage 2^62"),
                new Fault("stream-cut", "stream-cut", "stream", false, "an SSE stream cut in the middle of an event"),
                new Fault("error-event", "error-event", "stream", false, "an `error` event in the middle of a stream"),
                new Fault("429", "status-429", "chat", true, "429, the app allows no retry"),
                new Fault("429-retried", "status-429-retried", "chat-retry", true,
                        "429 once, the app allows 2 retries"),
                new Fault("500", "status-500", "chat", true, "500, the app allows no retry"),
                new Fault("500-retried", "status-500-retried", "chat-retry", true,
                        "500 once, the app allows 2 retries"),
                new Fault("500-retried-stream", "status-500-retried~stream", "stream-retry", true,
                        "500 once on a stream, the app allows 2 retries"),
                new Fault("never-ends", "never-ends", "chat-timeout", false,
                        "an answer that never ends (2 s client timeout)"),
                new Fault("never-ends-stream", "never-ends~stream", "stream-timeout", false,
                        "a stream that never ends (2 s client timeout)"),
                new Fault("huge", "huge", "chat", true, "a 50 MB answer (five choices of 10 MB)"),
                new Fault("huge-string", "huge-string", "chat", false,
                        "a 50 MB answer in one string, more than the SDK's JSON reader takes"),
                new Fault("usage-unasked", "usage-unasked", "stream", true,
                        "a gateway that appends its own usage chunk to every stream, asked or not"),
                new Fault("usage-unasked-asked", "usage-unasked~asked", "stream-usage", true,
                        "the same gateway, the app asks for usage itself"));
    }

    /** The few cheapest rows that the default build runs too. */
    static List<Fault> smoke() {
        return server().stream().filter(f -> List.of("ok-stream", "malformed-json", "usage-absurd", "usage-unasked")
                .contains(f.name())).toList();
    }

    /** The fake server's behaviour: the mode without its ledger suffix. */
    String behaviour() {
        int tilde = mode.indexOf('~');
        return tilde < 0 ? mode : mode.substring(0, tilde);
    }
}
