package dev.tokenguard.instrumentation.genai;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.okhttp.OkHttpResponses;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One governed request of the Google GenAI SDK. The SDK returns an {@code HttpApiResponse} over OkHttp's
 * {@code Response} (at once, or in a {@code CompletableFuture} for the async client); the app gets one whose body
 * passes through the call's usage reader as the SDK reads it, whole or as a stream, and the call is charged when
 * that body ends or is closed (an error status, which the SDK turns into an {@code ApiException} when it reads
 * the body, fails the call). A request that fails before any response, or an async one the app cancels first,
 * fails the call.
 */
final class GoogleGenAiCall implements GovernedCall {
    private static final ClassValue<Access> ACCESS = new ClassValue<>() {
        @Override
        protected Access computeValue(Class<?> type) {
            try {
                Field field = type.getDeclaredField("response");
                field.setAccessible(true);
                Constructor<?> constructor = type.getDeclaredConstructor(field.getType());
                constructor.setAccessible(true);
                return new Access(field, constructor);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    private final HttpLlmCall call;
    private final boolean async;

    GoogleGenAiCall(HttpLlmCall call, boolean async) {
        this.call = call;
        this.async = async;
    }

    @Override
    public Object request(Object arguments) {
        return arguments;
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (thrown != null) {
            call.failed(thrown);
            return returned;
        }
        if (async && returned instanceof CompletableFuture<?> future) {
            return observed(future);
        }
        return safelyObserved(returned);
    }

    /**
     * A future completed as {@code future} is, with the response observed; a failure fails the call, and
     * cancelling the app's future cancels the SDK's.
     */
    private CompletableFuture<Object> observed(CompletableFuture<?> future) {
        CompletableFuture<Object> observed = new CompletableFuture<>();
        future.whenComplete((response, error) -> {
            if (error != null) {
                Callbacks.run("google-genai.failed", () -> call.failed(error));
                observed.completeExceptionally(error);
            } else {
                observed.complete(safelyObserved(response));
            }
        });
        observed.whenComplete((response, error) -> {
            if (error instanceof CancellationException) {
                future.cancel(false);
                Callbacks.run("google-genai.cancelled", () -> call.failed(error));
            }
        });
        return observed;
    }

    /** The response with its body observed; when that fails, as it came (the call is then charged as it stands). */
    private Object safelyObserved(Object response) {
        Object observed = Callbacks.get("google-genai.response", new Observation(response), null);
        if (observed == null) {
            Callbacks.run("google-genai.end", () -> call.end(null));
            return response;
        }
        return observed;
    }

    private Object observe(Object response) {
        Access access = response == null ? null : ACCESS.get(response.getClass());
        if (access == null) {
            call.end(null);
            return response;
        }
        try {
            Object okResponse = access.field.get(response);
            if (okResponse == null) {
                call.end(null);
                return response;
            }
            Object watched = OkHttpResponses.observe(okResponse, call);
            return watched == okResponse ? response : access.constructor.newInstance(watched);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Google GenAI response not observable: " + e, e);
        }
    }

    /** How an {@code HttpApiResponse} is taken apart and made again. */
    private record Access(Field field, Constructor<?> constructor) {
    }

    /** {@link #observe} of {@code response}: a class of its own, not a lambda spun at run time in the first call. */
    private final class Observation implements Supplier<Object> {
        private final Object response;

        Observation(Object response) {
            this.response = response;
        }

        @Override
        public Object get() {
            return observe(response);
        }
    }
}
