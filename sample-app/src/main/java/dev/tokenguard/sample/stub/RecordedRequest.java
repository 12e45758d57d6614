package dev.tokenguard.sample.stub;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One physical request that reached a model endpoint of {@link FakeOpenAiServer}, and what the
 * server answered.
 *
 * @param sequence      1, 2, 3... in arrival order across all model endpoints of one server
 * @param method        HTTP method, e.g. {@code POST}
 * @param path          request path without query, e.g. {@code /v1/chat/completions}
 * @param headers       request headers, names in lower case, immutable
 * @param body          the request body as received (JSON text, or whatever the client sent)
 * @param status        the HTTP status the server answered with
 * @param streaming     whether the request asked for a stream ({@code "stream": true})
 * @param usageReported whether the answer carried a usage object; false for a chat stream without
 *                      {@code stream_options.include_usage} and for error answers
 * @param usage         the usage reported, or computed but not reported; {@code null} for error answers
 */
public record RecordedRequest(
        int sequence,
        String method,
        String path,
        Map<String, List<String>> headers,
        String body,
        int status,
        boolean streaming,
        boolean usageReported,
        StubUsage usage) {

    public RecordedRequest {
        headers = Map.copyOf(headers);
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

    /** Never prints header values: they carry API keys. */
    @Override
    public String toString() {
        return "RecordedRequest[#" + sequence + " " + method + " " + path + " -> " + status
                + (streaming ? " stream" : "") + ", usage=" + usage
                + (usageReported ? " (reported)" : " (not reported)") + ", header names=" + headers.keySet() + "]";
    }
}
