package dev.tokenguard.instrumentation.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class StreamUsageRequestTest {

    static Stream<Arguments> edits() {
        return Stream.of(
                arguments("{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"日本語 🙂\"}]}",
                        "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"日本語 🙂\"}],"
                                + "\"stream_options\":{\"include_usage\":true}}"),
                arguments("{\n  \"model\": \"x\",\n  \"stream\": true\n}\n",
                        "{\n  \"model\": \"x\",\n  \"stream\": true\n,\"stream_options\":{\"include_usage\":true}}\n"),
                arguments("{\"stream\":true,\"stream_options\":{}}",
                        "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"),
                arguments("{\"stream\":true,\"stream_options\":{ \"include_obfuscation\":false}}",
                        "{\"stream\":true,\"stream_options\":{\"include_usage\":true, \"include_obfuscation\":false}}"),
                arguments("{\"stream_options\":{\"include_usage\":false},\"stream\":true,\"n\":1.50}",
                        "{\"stream_options\":{\"include_usage\":true},\"stream\":true,\"n\":1.50}"),
                arguments("{\"content\":\"é\",\"stream_options\" : null,\"stream\":true}",
                        "{\"content\":\"é\",\"stream_options\" : {\"include_usage\":true},\"stream\":true}"),
                arguments("{}", "{\"stream_options\":{\"include_usage\":true}}"));
    }

    @ParameterizedTest
    @MethodSource("edits")
    void addsIncludeUsageAndKeepsEveryOtherByte(String body, String expected) {
        byte[] out = StreamUsageRequest.withIncludeUsage(body.getBytes(StandardCharsets.UTF_8));
        assertEquals(expected, new String(out, StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
            "{\"stream\":true,\"stream_options\":\"yes\"}",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":1}}",
            "{\"stream_options\":{},\"stream\":true,\"stream_options\":{}}",
            "[{\"stream\":true}]",
            "{\"stream\":true,",
            "stream=true",
            ""})
    void leavesAloneWhatAlreadyAsksOrCannotBeEdited(String body) {
        assertNull(StreamUsageRequest.withIncludeUsage(body.getBytes(StandardCharsets.UTF_8)));
    }
}
