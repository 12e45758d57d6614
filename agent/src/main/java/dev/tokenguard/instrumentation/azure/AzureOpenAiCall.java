package dev.tokenguard.instrumentation.azure;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;

/**
 * One governed protocol call of the Azure OpenAI SDK. The request body may be replaced (a chat stream asks for its
 * usage); the response's body, a {@code BinaryData}, is handed to the HTTP layer's usage reader on its way to the
 * SDK's parser: at once when azure-core has already read it, or piece by piece as the SDK reads a streamed body,
 * with the usage-only chunk the agent asked for left out. A blocking call ends when its body is read; an async
 * call's {@code Mono} is observed the same way once the response arrives, and fails the call when it fails or is
 * cancelled before that.
 */
final class AzureOpenAiCall implements GovernedCall {
    private final AzureCore core;
    private final HttpLlmCall call;
    private final boolean async;
    private volatile boolean responded;

    AzureOpenAiCall(AzureCore core, HttpLlmCall call, boolean async) {
        this.core = core;
        this.call = call;
        this.async = async;
    }

    @Override
    public Object request(Object request) {
        if (call.bodyChanged() && request instanceof Object[] args && args.length == 3) {
            Object body = core.binaryData(call.body());
            if (body != null) {
                Object[] replaced = args.clone();
                replaced[1] = body;
                return replaced;
            }
        }
        return request;
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (thrown != null) {
            call.failed(thrown);
            return returned;
        }
        if (async && core.isMono(returned)) {
            return core.observeMono(returned,
                    this::safelyObserved,
                    error -> Callbacks.run("azure-ai-openai.failed", () -> {
                        if (!responded) {
                            call.failed(error);
                        }
                    }),
                    () -> Callbacks.run("azure-ai-openai.cancelled", () -> {
                        if (!responded) {
                            call.failed(new CancellationException("the app cancelled the call before its response"));
                        }
                    }));
        }
        return safelyObserved(returned);
    }

    /** {@link #observed}, or the response as it came when that failed (the call is then charged as it stands). */
    private Object safelyObserved(Object response) {
        Object observed = Callbacks.get("azure-ai-openai.response", () -> observed(response), null);
        if (observed == null) {
            Callbacks.run("azure-ai-openai.end", () -> call.end(null));
            return response;
        }
        return observed;
    }

    /** The response as the SDK gets it: the same, or one whose body passes through the usage reader. */
    private Object observed(Object response) {
        responded = true;
        if (!core.isResponse(response)) {
            call.end(null);
            return response;
        }
        call.status(core.status(response));
        Object body = core.value(response);
        if (body == null) {
            call.end(null);
            return response;
        }
        if (core.replayable(body)) {
            byte[] bytes = core.bytes(body);
            if (bytes == null) {
                call.end(null);
                return response;
            }
            byte[] seen = call.onBytes(bytes, 0, bytes.length);
            byte[] rest = call.endOfBody();
            call.end(null);
            if (seen == bytes && rest.length == 0) {
                return response;
            }
            byte[] all = new byte[seen.length + rest.length];
            System.arraycopy(seen, 0, all, 0, seen.length);
            System.arraycopy(rest, 0, all, seen.length, rest.length);
            return core.withValue(response, core.binaryData(all));
        }
        Object flux = core.observeFlux(core.fluxOf(body),
                buffer -> Callbacks.get("azure-ai-openai.body", () -> piece(buffer), buffer),
                () -> Callbacks.get("azure-ai-openai.body-end", () -> {
                    byte[] rest = call.endOfBody();
                    return rest.length == 0 ? null : ByteBuffer.wrap(rest);
                }, null),
                () -> Callbacks.run("azure-ai-openai.end", () -> call.end(null)),
                error -> Callbacks.run("azure-ai-openai.end", () -> call.end(error)),
                () -> Callbacks.run("azure-ai-openai.end", () -> call.end(null)));
        return core.withValue(response, core.binaryDataOf(flux));
    }

    private ByteBuffer piece(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        byte[] seen = call.onBytes(bytes, 0, bytes.length);
        return seen == bytes ? buffer : ByteBuffer.wrap(seen);
    }
}
