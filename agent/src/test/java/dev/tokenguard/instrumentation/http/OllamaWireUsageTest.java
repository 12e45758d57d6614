package dev.tokenguard.instrumentation.http;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.tokenguard.instrumentation.http.WireFeed.read;
import static dev.tokenguard.instrumentation.http.WireFeed.readAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

class OllamaWireUsageTest {

    static final String CHAT_STREAM = """
            {"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false}
            {"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky ☀️"},"done":false}
            {"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}
            """;

    @Test
    void chatStreamTakesTheDoneLine() {
        readAll(WireApi.OLLAMA_CHAT, CHAT_STREAM, new Usage(26L, 282L, null, null, null, "llama3.2", null,
                List.of("stop"), UsageSource.PROVIDER), null);
        assertEquals("The sky ☀️", read(WireApi.OLLAMA_CHAT, CHAT_STREAM, 1).text().toString());
    }

    @Test
    void aStreamCutBeforeItsDoneLineSaysSo() {
        String cut = CHAT_STREAM.substring(0, CHAT_STREAM.indexOf("{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T19"));
        assertEquals("the response carried no usage", read(WireApi.OLLAMA_CHAT, cut, 7).problem());
    }

    @Test
    void generateWithoutStreaming() {
        String body = "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T19:22:45.499127Z\",\"response\":\"The sky is blue"
                + " because of Rayleigh scattering.\",\"done\":true,\"done_reason\":\"stop\",\"context\":[1,2,3],"
                + "\"total_duration\":5043500667,\"load_duration\":5025959,\"prompt_eval_count\":26,"
                + "\"prompt_eval_duration\":325953000,\"eval_count\":290,\"eval_duration\":4709213000}";
        readAll(WireApi.OLLAMA_GENERATE, body, new Usage(26L, 290L, null, null, null, "llama3.2", null,
                List.of("stop"), UsageSource.PROVIDER), null);
    }

    @Test
    void embedHasInputOnly() {
        String body = "{\"model\":\"all-minilm\",\"embeddings\":[[0.010071029,-0.0017594862,0.05007221]],"
                + "\"total_duration\":14143917,\"load_duration\":1019500,\"prompt_eval_count\":8}";
        readAll(WireApi.OLLAMA_EMBED, body, new Usage(8L, null, null, null, null, "all-minilm", null, List.of(),
                UsageSource.PROVIDER), null);
    }

    @Test
    void aFullyCachedPromptHasNoInputCount() {
        String body = "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":true,"
                + "\"done_reason\":\"stop\",\"eval_count\":3}\n";
        readAll(WireApi.OLLAMA_CHAT, body, new Usage(null, 3L, null, null, null, "llama3.2", null, List.of("stop"),
                UsageSource.PROVIDER), "no input token count");
    }
}
