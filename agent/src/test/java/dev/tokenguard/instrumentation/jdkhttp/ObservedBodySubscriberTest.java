package dev.tokenguard.instrumentation.jdkhttp;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.KnownEndpoints;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ObservedBodySubscriber} driven by hand, as the JDK's client drives it, in front of an app subscriber
 * that, like {@code ofInputStream}'s, takes no more items than it asked for.
 */
class ObservedBodySubscriberTest {
    static final String BASE = "http://127.0.0.1:9/v1";
    static final String OLLAMA = "http://127.0.0.1:11434";
    static final String CHUNK = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n";
    static final String USAGE = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\","
            + "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n";

    @TempDir
    Path dir;
    BudgetEngine engine;
    SessionLogWriter log;
    Governor governor;

    @BeforeEach
    void install() {
        BudgetSpec spec = new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000_000L, null, null, null, null,
                new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE);
        log = new SessionLogWriter(dir, "test", ProcessHandle.current().pid(), Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(spec), Clock.systemUTC(), MdcSource.NONE, log.sessionListener());
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC(), new Governor.Settings(false, false,
                null, List.of(new HttpEndpoint(URI.create(BASE), "openai"), new HttpEndpoint(URI.create(OLLAMA), "ollama")),
                name -> true));
    }

    @AfterEach
    void close() {
        engine.close();
        log.close();
    }

    /** An app subscriber that asks for one item at a time, and only when told to. */
    static final class OneAtATime implements HttpResponse.BodySubscriber<String> {
        final ByteArrayOutputStream read = new ByteArrayOutputStream();
        final CompletableFuture<String> body = new CompletableFuture<>();
        Flow.Subscription subscription;
        long requested;
        long received;
        /** How many calls the session log held when each item arrived. */
        final List<Integer> chargedWhenReceived = new ArrayList<>();
        Path logDir;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            askForOne();
        }

        void askForOne() {
            requested++;
            subscription.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            received++;
            if (logDir != null) {
                try {
                    chargedWhenReceived.add(SessionLogEvents.of(logDir, "llm_call").size());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
            if (received > requested) {
                body.completeExceptionally(new AssertionError("item " + received + " of " + requested + " asked for"));
            }
            for (ByteBuffer buffer : item) {
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                read.write(bytes, 0, bytes.length);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            body.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            body.complete(read.toString(StandardCharsets.UTF_8));
        }

        @Override
        public CompletionStage<String> getBody() {
            return body;
        }
    }

    /** The upstream subscription: counts what was asked of it. */
    static final class Upstream implements Flow.Subscription {
        final List<Long> requests = new ArrayList<>();

        @Override
        public void request(long n) {
            requests.add(n);
        }

        @Override
        public void cancel() {
        }
    }

    @Test
    void anEndHeldBackUntilTheBodyCompletedWaitsForTheAppsDemand() throws Exception {
        byte[] body = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}"
                .getBytes(StandardCharsets.UTF_8);
        // an endpoint known to report a stream's usage only when asked: the agent asks, and hides the chunk it added
        UnaskedStreamUsage.shared().learn(UnaskedStreamUsage.endpoint(URI.create(BASE)), false, true);
        HttpLlmCall call = (HttpLlmCall) HttpLlmCall.begin(governor, new KnownEndpoints(governor.settings()
                .httpEndpoints()), name -> true, "POST", URI.create(BASE + "/chat/completions"), Map.of(), body);
        assertTrue(call.bodyChanged(), "the agent asked this OpenAI stream for its usage");
        OneAtATime app = new OneAtATime();
        ObservedBodySubscriber<String> observed = new ObservedBodySubscriber<>(app, call);
        Upstream upstream = new Upstream();

        observed.onSubscribe(upstream);
        assertEquals(List.of(1L), upstream.requests);
        // the whole body in one item; its last event has no closing blank line, so the filter holds it to the end
        observed.onNext(List.of(ByteBuffer.wrap((CHUNK + USAGE + "data: [DONE]").getBytes(StandardCharsets.UTF_8))));
        observed.onComplete();

        assertEquals(1, app.received, "nothing beyond the app's demand");
        assertFalse(app.body.isDone(), "the completion waits behind the held-back end");
        assertEquals(1, SessionLogEvents.of(dir, "llm_call").size(), "charged when the body ended");
        assertEquals(11, SessionLogEvents.of(dir, "llm_call").get(0).get("total_tokens").asLong());

        app.askForOne();
        assertEquals(List.of(1L), upstream.requests, "the completed upstream is asked for nothing more");
        assertEquals(2, app.received);
        assertEquals(CHUNK + "data: [DONE]", app.body.getNow(null), "the app reads the stream without the usage chunk");
    }

    @Test
    void anOllamaStreamIsChargedAtItsDoneObjectBeforeTheAppReadsIt() throws Exception {
        byte[] body = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        HttpLlmCall call = (HttpLlmCall) HttpLlmCall.begin(governor, new KnownEndpoints(governor.settings()
                .httpEndpoints()), name -> true, "POST", URI.create(OLLAMA + "/api/chat"), Map.of(), body);
        assertFalse(call.bodyChanged(), "Ollama's stream reports its counts unasked");
        OneAtATime app = new OneAtATime();
        app.logDir = dir;
        ObservedBodySubscriber<String> observed = new ObservedBodySubscriber<>(app, call);
        observed.onSubscribe(new Upstream());
        String first = "{\"model\":\"llama3.2\",\"created_at\":\"2026-01-05T09:00:01Z\",\"message\":{\"role\":"
                + "\"assistant\",\"content\":\"Hello\"},\"done\":false}\n";
        String done = "{\"model\":\"llama3.2\",\"created_at\":\"2026-01-05T09:00:01Z\",\"message\":{\"role\":"
                + "\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":12,"
                + "\"eval_count\":3}";
        observed.onNext(List.of(ByteBuffer.wrap(first.getBytes(StandardCharsets.UTF_8))));
        app.askForOne();
        observed.onNext(List.of(ByteBuffer.wrap(done.getBytes(StandardCharsets.UTF_8))));
        app.askForOne();
        observed.onNext(List.of(ByteBuffer.wrap("\n".getBytes(StandardCharsets.UTF_8))));
        observed.onComplete();

        // LangChain4j's Ollama models end the app's call at the done object, before the body's end
        assertEquals(List.of(0, 1, 1), app.chargedWhenReceived, "charged before the app read the done object");
        assertEquals(first + done + "\n", app.body.getNow(null));
        List<com.fasterxml.jackson.databind.JsonNode> calls = SessionLogEvents.of(dir, "llm_call");
        assertEquals(1, calls.size(), "charged once");
        assertEquals(12, calls.get(0).get("input_tokens").asLong());
        assertEquals(3, calls.get(0).get("output_tokens").asLong());
        assertEquals("provider", calls.get(0).get("usage_source").asText());
    }
}
