package dev.tokenguard.it.app;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.googleai.GoogleAiEmbeddingModel;
import dev.langchain4j.model.googleai.GoogleAiGeminiChatModel;
import dev.langchain4j.model.googleai.GoogleAiGeminiStreamingChatModel;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaEmbeddingModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.output.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A service that calls Gemini and Ollama through LangChain4j's own models (which send over LangChain4j's HTTP
 * client on the JDK's {@code HttpClient}), built as any app builds them (retries left at LangChain4j's
 * default), and knows nothing of TokenGuard: it recognises the refusal only by its class name.
 *
 * <p>Arguments: {@code <gemini base url> <ollama base url> <step>...}. Each step runs on a thread of its own,
 * named after the step, one after the other (a thread's budget is its own). A step is one of
 * {@code gemini-chat}, {@code gemini-stream}, {@code gemini-embed}, {@code ollama-chat}, {@code ollama-stream},
 * {@code ollama-embed}: two calls of that kind (an embedding step: one text, then three in one call); or
 * {@code refuse-<kind>}: calls of that kind until one is refused, and one more. Every prompt carries
 * {@code [<step>]}, so the server's ledger tells which step sent a request. One line per call:
 * {@code OK <step> <i> <what the app saw>} or {@code REFUSED <step> <i> <how> <class> <message>}, {@code how}
 * being {@code thrown} (the method threw the refusal), {@code cause} (the framework's exception carries it) or
 * {@code handler} (it reached the streaming handler's {@code onError}).
 */
public final class LangChain4jGeminiOllamaApp {
    static final String GEMINI_MODEL = "gemini-2.5-flash";
    static final String GEMINI_EMBEDDING_MODEL = "gemini-embedding-001";
    static final String OLLAMA_MODEL = "llama3.2";
    static final String OLLAMA_EMBEDDING_MODEL = "all-minilm";
    private static final String API_KEY = "AIzaSy-secret-do-not-log-0123";
    private static final int MAX_CALLS_UNTIL_REFUSED = 60;

    private final String geminiUrl;
    private final String ollamaUrl;

    private LangChain4jGeminiOllamaApp(String geminiUrl, String ollamaUrl) {
        this.geminiUrl = geminiUrl;
        this.ollamaUrl = ollamaUrl;
    }

    public static void main(String[] args) throws Exception {
        LangChain4jGeminiOllamaApp app = new LangChain4jGeminiOllamaApp(args[0], args[1]);
        System.out.println("LIBRARIES " + jarName(GoogleAiGeminiChatModel.class) + " " + jarName(OllamaChatModel.class)
                + " " + jarName(ChatModel.class));
        for (int i = 2; i < args.length; i++) {
            String step = args[i];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread thread = new Thread(() -> {
                try {
                    app.run(step);
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, step);
            thread.start();
            thread.join();
            if (failure.get() != null) {
                System.out.println("FAILED " + step + " " + failure.get());
                failure.get().printStackTrace();
                System.exit(1);
            }
        }
    }

    /** The file name of the jar a class was loaded from. */
    static String jarName(Class<?> type) {
        String path = type.getProtectionDomain().getCodeSource().getLocation().getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** One call of a kind; returns what the app saw. */
    interface Call {
        String run(String step, int i) throws Exception;
    }

    void run(String step) throws Exception {
        boolean refuse = step.startsWith("refuse-");
        Call call = call(refuse ? step.substring("refuse-".length()) : step);
        if (!refuse) {
            for (int i = 0; i < 2; i++) {
                System.out.println("OK " + step + " " + i + " " + call.run(step, i));
            }
            return;
        }
        int refusedAt = -1;
        for (int i = 0; i < MAX_CALLS_UNTIL_REFUSED && (refusedAt < 0 || i <= refusedAt + 1); i++) {
            try {
                System.out.println("OK " + step + " " + i + " " + call.run(step, i));
            } catch (Exception e) {
                String how = refusal(e);
                if (how == null) {
                    throw e;
                }
                Throwable refusal = e instanceof HandlerError h ? h.getCause() : e;
                while (!isRefusal(refusal)) {
                    refusal = refusal.getCause();
                }
                System.out.println("REFUSED " + step + " " + i + " " + how + " " + refusal.getClass().getName() + " "
                        + refusal.getMessage());
                if (refusedAt < 0) {
                    refusedAt = i;
                }
            }
        }
    }

    Call call(String kind) throws ReflectiveOperationException {
        return switch (kind) {
            case "gemini-chat" -> chat((ChatModel) build(GoogleAiGeminiChatModel.class, "apiKey", API_KEY,
                    "baseUrl", geminiUrl, "modelName", GEMINI_MODEL));
            case "gemini-stream" -> stream((StreamingChatModel) build(GoogleAiGeminiStreamingChatModel.class,
                    "apiKey", API_KEY, "baseUrl", geminiUrl, "modelName", GEMINI_MODEL));
            case "gemini-embed" -> embed((EmbeddingModel) build(GoogleAiEmbeddingModel.class, "apiKey", API_KEY,
                    "baseUrl", geminiUrl, "modelName", GEMINI_EMBEDDING_MODEL, "outputDimensionality", 8));
            case "ollama-chat" -> chat((ChatModel) build(OllamaChatModel.class, "baseUrl", ollamaUrl,
                    "modelName", OLLAMA_MODEL));
            case "ollama-stream" -> stream((StreamingChatModel) build(OllamaStreamingChatModel.class,
                    "baseUrl", ollamaUrl, "modelName", OLLAMA_MODEL));
            case "ollama-embed" -> embed((EmbeddingModel) build(OllamaEmbeddingModel.class, "baseUrl", ollamaUrl,
                    "modelName", OLLAMA_EMBEDDING_MODEL));
            default -> throw new IllegalArgumentException("unknown step kind " + kind);
        };
    }

    /**
     * {@code model.builder().<name>(value)...build()}, called by name: the builders' classes and return types
     * changed between LangChain4j releases (a concrete builder per model in 1.2, a shared generic one later), so
     * a call compiled against one release would not link against another; the model interfaces did not change.
     */
    static Object build(Class<?> model, Object... settings) throws ReflectiveOperationException {
        Object builder = model.getMethod("builder").invoke(null);
        for (int i = 0; i < settings.length; i += 2) {
            String name = (String) settings[i];
            Object value = settings[i + 1];
            java.lang.reflect.Method setter = null;
            for (java.lang.reflect.Method m : builder.getClass().getMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == 1
                        && m.getParameterTypes()[0].isInstance(value)) {
                    setter = m;
                }
            }
            if (setter == null) {
                throw new NoSuchMethodException(builder.getClass().getName() + "." + name + "(" + value.getClass()
                        .getSimpleName() + ")");
            }
            setter.setAccessible(true); // declared by a builder base class that is not public in some releases
            setter.invoke(builder, value);
        }
        java.lang.reflect.Method build = builder.getClass().getMethod("build");
        build.setAccessible(true);
        return build.invoke(builder);
    }

    static ChatRequest request(String step, int i) {
        return ChatRequest.builder().messages(
                SystemMessage.from("You summarise support tickets in one sentence."),
                UserMessage.from("[" + step + "] Ticket " + i + ": the printer on floor " + (i % 7)
                        + " jams every morning " + "x".repeat(i % 5 * 6))).build();
    }

    static Call chat(ChatModel model) {
        return (step, i) -> {
            ChatResponse response = model.chat(request(step, i));
            return "in=" + response.tokenUsage().inputTokenCount() + " out=" + response.tokenUsage().outputTokenCount()
                    + " chars=" + response.aiMessage().text().length();
        };
    }

    static Call stream(StreamingChatModel model) {
        return (step, i) -> {
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            StringBuilder partial = new StringBuilder();
            model.chat(request(step, i), new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String text) {
                    partial.append(text);
                }

                @Override
                public void onCompleteResponse(ChatResponse response) {
                    done.complete(response);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            });
            ChatResponse response;
            try {
                response = done.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new HandlerError(e.getCause());
            }
            if (!partial.toString().equals(response.aiMessage().text())) {
                throw new IllegalStateException("the parts do not add up to the answer: " + partial + " / "
                        + response.aiMessage().text());
            }
            return "in=" + response.tokenUsage().inputTokenCount() + " out=" + response.tokenUsage().outputTokenCount()
                    + " chars=" + partial.length();
        };
    }

    static Call embed(EmbeddingModel model) {
        return (step, i) -> {
            String text = "[" + step + "] Ticket " + i + ": the customer cannot log in after the password reset and"
                    + " the reset mail arrives twice; the support desk asks for the account id and a screenshot "
                    + "y".repeat(i % 4 * 10);
            if (i % 2 == 0) {
                Response<Embedding> one = model.embed(text);
                return "dims=" + one.content().dimension();
            }
            List<TextSegment> segments = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                segments.add(TextSegment.from(text + " part " + k));
            }
            Response<List<Embedding>> all = model.embedAll(segments);
            return "embeddings=" + all.content().size() + " dims=" + all.content().get(0).dimension();
        };
    }

    /** How a refusal reached the app ({@code thrown}, {@code cause}, {@code handler}), or null when this is none. */
    static String refusal(Throwable t) {
        if (t instanceof HandlerError h) {
            return refusal(h.getCause()) != null ? "handler" : null;
        }
        if (isRefusal(t)) {
            return "thrown";
        }
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (isRefusal(c)) {
                return "cause";
            }
        }
        return null;
    }

    static boolean isRefusal(Throwable t) {
        return t != null && t.getClass().getSimpleName().equals("BudgetExhaustedException");
    }

    /** An error that reached the streaming handler rather than being thrown by the call. */
    static final class HandlerError extends Exception {
        HandlerError(Throwable cause) {
            super(cause);
        }
    }
}
