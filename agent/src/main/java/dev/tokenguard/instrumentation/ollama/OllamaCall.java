package dev.tokenguard.instrumentation.ollama;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.WireApi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One governed request of ollama4j, between the hooked method's entry and its return. A chat or generate
 * response reaches it line by line ({@link ResponseLineSite}), on its way to the SDK's parser and the app's
 * stream handler, and is charged at its {@code "done": true} line, or when the method returns or throws (a
 * stream the app's handler abandoned is charged for what arrived, or an estimate). An embeddings response is read
 * from the {@code OllamaEmbedResult} the method returns.
 *
 * <p>The SDK reads the lines on the calling thread, inside the hooked method, so the call in progress is found
 * through the thread.
 */
final class OllamaCall implements GovernedCall {
    private static final ThreadLocal<OllamaCall> CURRENT = new ThreadLocal<>();
    private static final JsonFactory JSON = new JsonFactory();

    private final WireApi api;
    private final HttpLlmCall call;
    private final OllamaCall outer;
    private boolean linesSeen;

    private OllamaCall(WireApi api, HttpLlmCall call, OllamaCall outer) {
        this.api = api;
        this.call = call;
        this.outer = outer;
    }

    /** A call begun on this thread: the one whose response lines arrive until it exits. */
    static OllamaCall begin(WireApi api, HttpLlmCall call) {
        OllamaCall begun = new OllamaCall(api, call, CURRENT.get());
        CURRENT.set(begun);
        return begun;
    }

    /** The call whose response this thread reads, or null. */
    static OllamaCall current() {
        return CURRENT.get();
    }

    /** One line of the response body, as the SDK read it (without its line break). */
    void onLine(String line) {
        linesSeen = true;
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        call.onBytes(bytes, 0, bytes.length);
    }

    @Override
    public Object request(Object request) {
        return request;
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (outer == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(outer);
        }
        if (thrown != null) {
            if (linesSeen) {
                call.end(thrown);
            } else {
                call.failed(thrown);
            }
            return returned;
        }
        if (api == WireApi.OLLAMA_EMBED) {
            Callbacks.run("ollama4j.embed", () -> embedResult(returned));
        }
        call.end(null);
        return returned;
    }

    /**
     * The counts {@code Ollama.embed} parsed from the body, handed to the usage reader under the wire's own names.
     * An {@code int} count the body left out reads as 0, which no embedding of any input has: it is left out, and
     * the call estimated.
     */
    private void embedResult(Object result) {
        Object model = SdkObjects.get(result, "getModel");
        Long input = SdkObjects.number(result, "getPromptEvalCount");
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            if (model instanceof String name) {
                json.writeStringField("model", name);
            }
            if (input != null && input > 0) {
                json.writeNumberField("prompt_eval_count", input);
            }
            json.writeEndObject();
        } catch (IOException e) {
            return;
        }
        byte[] bytes = out.toByteArray();
        call.onBytes(bytes, 0, bytes.length);
    }
}
