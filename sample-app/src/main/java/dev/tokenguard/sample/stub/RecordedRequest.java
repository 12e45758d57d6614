package dev.tokenguard.sample.stub;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One physical request that reached a model endpoint of a fake server ({@link FakeOpenAiServer},
 * {@link FakeAnthropicServer}), and what the server answered.
 *
 * @param sequence      1, 2, 3... in arrival order across all model endpoints of one server
 * @param method        HTTP method, e.g. {@code POST}
 * @param path          request path without query, e.g. {@code /v1/chat/completions}
 * @param query         the raw query string, e.g. {@code beta=true}; empty when the URL had none
 * @param headers       request headers, names in lower case, immutable
 * @param body          the request body as received (JSON text, or whatever the client sent)
 * @param status        the HTTP status the server answered with
 * @param streaming     whether the request asked for a stream ({@code "stream": true})
 * @param usageReported whether the answer carried a readable usage object; false for an OpenAI chat
 *                      stream without {@code stream_options.include_usage}, for an Anthropic answer
 *                      whose usage was hidden or renamed on purpose, and for error answers
 * @param usage         the usage reported, or computed but not reported; {@code null} for error answers.
 *                      For a stream that the server broke off with an error event, the usage its
 *                      events had reported before the error
 * @param streamError   the error type of the SSE {@code error} event that broke off a stream on purpose
 *                      (e.g. {@code overloaded_error}); {@code null} when the answer ran to its end
 */
public record RecordedRequest(
        int sequence,
        String method,
        String path,
        String query,
        Map<String, List<String>> headers,
        String body,
        int status,
        boolean streaming,
        boolean usageReported,
        StubUsage usage,
        String streamError) {

    public RecordedRequest {
        query = query == null ? "" : query;
        headers = Map.copyOf(headers);
    }

    /** A request without query string whose answer, if streamed, ran to its end. */
    public RecordedRequest(int sequence, String method, String path, Map<String, List<String>> headers, String body,
                           int status, boolean streaming, boolean usageReported, StubUsage usage) {
        this(sequence, method, path, "", headers, body, status, streaming, usageReported, usage, null);
    }

    /** The first value of the named header (any case), or {@code null} when absent. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** Whether the server answered with a 2xx status. */
    public boolean answered() {
        return status >= 200 && status < 300;
    }

    /**
     * Never prints header values, nor the value of a {@code key} query parameter: they carry API keys
     * (Google's APIs take the key as {@code ?key=...}).
     */
    @Override
    public String toString() {
        String shownQuery = query.replaceAll("(^|&)key=[^&]*", "$1key=***");
        return "RecordedRequest[#" + sequence + " " + method + " " + path + (query.isEmpty() ? "" : "?" + shownQuery)
                + " -> " + status + (streaming ? " stream" : "") + (streamError == null ? "" : " broken by " + streamError)
                + ", usage=" + usage + (usageReported ? " (reported)" : " (not reported)")
                + ", header names=" + headers.keySet() + "]";
    }
}
