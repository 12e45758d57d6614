package dev.tokenguard.it.app;

import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.anthropic.AnthropicChatModel;
import dev.langchain4j.model.anthropic.AnthropicStreamingChatModel;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import dev.langchain4j.model.openai.OpenAiResponsesChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.openaiofficial.OpenAiOfficialChatModel;
import dev.langchain4j.model.openaiofficial.OpenAiOfficialStreamingChatModel;
import dev.langchain4j.service.AiServices;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A service that calls LLMs through LangChain4j and knows nothing of TokenGuard. Each step runs on a
 * thread of its own ({@code step-<name>}, so under the default thread scope each step has a budget of
 * its own) and uses a model name of its own (so the fake server's requests can be told apart per step).
 * A step calls its model again and again until a call fails, then prints {@code STEP <name> OK <calls>}
 * and, for the call that failed, {@code STEP <name> REFUSED <thrown|onError> <exception type> <cause type>}
 * when the failure was the budget's refusal, else {@code STEP <name> FAILED <exception>}; where every
 * successful call's response told the app its token usage, {@code STEP <name> APP-TOKENS <sum>}. Step
 * {@code retry} makes one call (the test fails the server's first answer).
 *
 * <p>Arguments: the fake OpenAI server's base URL ({@code http://host:port/v1}), the fake Anthropic
 * server's base URL ({@code http://host:port}), then the steps: {@code retry chat stream embed responses
 * tool anthropic anthropic-stream official official-stream}.
 */
public final class LangChain4jScenarioApp {
    static final String KEY = "sk-secret-langchain4j";
    static final String REFUSAL = "dev.tokenguard.api.BudgetExhaustedException";
    static final int MAX_CALLS = 60;

    private LangChain4jScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        String openai = args[0];
        String anthropic = args[1] + "/v1/";
        for (int i = 2; i < args.length; i++) {
            String step = args[i];
            Thread thread = new Thread(() -> run(step, openai, anthropic), "step-" + step);
            thread.start();
            thread.join();
        }
        System.out.println("DONE");
        // OkHttp's dispatcher threads (the SDKs' async and streaming calls) would keep the JVM up for a minute
        System.exit(0);
    }

    /** One app call of a step: returns the total tokens the app was told it used (-1: not told), or throws. */
    interface Call {
        long run(int i) throws Throwable;
    }

    static void run(String step, String openai, String anthropic) {
        try {
            switch (step) {
                case "retry" -> {
                    ChatModel model = OpenAiChatModel.builder().baseUrl(openai).apiKey(KEY).modelName("gpt-4.1")
                            .maxRetries(2).build();
                    ChatResponse answer = model.chat(UserMessage.from("ticket 0: the printer jams"));
                    System.out.println("STEP retry OK 1 " + (answer.aiMessage().text().isEmpty() ? "empty" : "answered"));
                    System.out.println("STEP retry APP-TOKENS " + tokens(answer));
                }
                case "chat" -> {
                    ChatModel model = OpenAiChatModel.builder().baseUrl(openai).apiKey(KEY).modelName("gpt-4o-mini")
                            .maxRetries(2).build();
                    repeat(step, i -> tokens(model.chat(UserMessage.from("ticket " + i + ": the printer jams"))));
                }
                case "stream" -> {
                    StreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(openai).apiKey(KEY)
                            .modelName("gpt-4o").build();
                    repeat(step, i -> stream(model, "ticket " + i + ": the scanner is slow"));
                }
                case "embed" -> {
                    OpenAiEmbeddingModel model = OpenAiEmbeddingModel.builder().baseUrl(openai).apiKey(KEY)
                            .modelName("text-embedding-3-small").maxRetries(2).build();
                    repeat(step, i -> model.embed(("ticket " + i + ": the printer jams and the tray is stuck. ").repeat(4))
                            .tokenUsage().totalTokenCount());
                }
                case "responses" -> Responses.run(step, openai);
                case "tool" -> {
                    ChatModel model = OpenAiChatModel.builder().baseUrl(openai).apiKey(KEY).modelName("gpt-4.1-nano")
                            .maxRetries(2).build();
                    Calculator calculator = new Calculator();
                    Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).tools(calculator)
                            .build();
                    int calls = repeat(step, i -> {
                        assistant.chat("ticket " + i + ": add two and two");
                        return -1;
                    });
                    System.out.println("STEP tool TOOLS " + calculator.calls.get() + " " + calls);
                }
                case "anthropic" -> {
                    ChatModel model = AnthropicChatModel.builder().baseUrl(anthropic).apiKey(KEY)
                            .modelName("claude-haiku-4-5").maxTokens(200).maxRetries(2).build();
                    repeat(step, i -> {
                        model.chat("ticket " + i + ": the printer jams");
                        return -1;
                    });
                }
                case "anthropic-stream" -> {
                    StreamingChatModel model = AnthropicStreamingChatModel.builder().baseUrl(anthropic).apiKey(KEY)
                            .modelName("claude-sonnet-4-5").maxTokens(200).build();
                    repeat(step, i -> {
                        stream(model, "ticket " + i + ": the scanner is slow");
                        return -1;
                    });
                }
                case "official" -> Official.chat(step, openai);
                case "official-stream" -> Official.stream(step, openai);
                default -> throw new IllegalArgumentException("unknown step " + step);
            }
        } catch (Throwable t) {
            System.out.println("STEP " + step + " FAILED " + t);
            t.printStackTrace(System.out);
        }
    }

    /** Calls until a call fails; prints the calls that succeeded and how the failed one failed. */
    static int repeat(String step, Call call) {
        int ok = 0;
        long appTokens = 0;
        for (int i = 0; i < MAX_CALLS; i++) {
            String how = "thrown";
            Throwable failure;
            try {
                long told = call.run(i);
                appTokens = appTokens < 0 || told < 0 ? -1 : appTokens + told;
                ok++;
                continue;
            } catch (StreamFailed e) {
                how = "onError";
                failure = e.getCause();
            } catch (Throwable t) {
                failure = t;
            }
            System.out.println("STEP " + step + " OK " + ok);
            if (appTokens >= 0) {
                System.out.println("STEP " + step + " APP-TOKENS " + appTokens);
            }
            if (isRefusal(failure)) {
                Throwable cause = failure.getCause();
                System.out.println("STEP " + step + " REFUSED " + how + " " + failure.getClass().getName() + " "
                        + (cause == null ? "-" : cause.getClass().getName()) + " " + failure.getMessage());
            } else {
                System.out.println("STEP " + step + " FAILED " + how + " " + failure);
                failure.printStackTrace(System.out);
            }
            return ok;
        }
        System.out.println("STEP " + step + " OK " + ok);
        System.out.println("STEP " + step + " NEVER-REFUSED");
        return ok;
    }

    static boolean isRefusal(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getClass().getName().equals(REFUSAL)) {
                return true;
            }
        }
        return false;
    }

    /** The total tokens a response told the app, or -1 when it told none. */
    static long tokens(ChatResponse response) {
        return response.tokenUsage() == null || response.tokenUsage().totalTokenCount() == null ? -1
                : response.tokenUsage().totalTokenCount();
    }

    /**
     * A streamed call: returns the tokens its complete response told the app, throws {@link StreamFailed} with
     * what onError got.
     */
    static long stream(StreamingChatModel model, String prompt) throws Exception {
        CompletableFuture<Object> done = new CompletableFuture<>();
        StringBuilder text = new StringBuilder();
        model.chat(prompt, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                text.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.complete(error);
            }
        });
        Object end = done.get(60, TimeUnit.SECONDS);
        if (end instanceof Throwable error) {
            throw new StreamFailed(error);
        }
        if (text.length() == 0) {
            throw new IllegalStateException("a stream without text");
        }
        return tokens((ChatResponse) end);
    }

    /** What a streaming handler's onError received. */
    static final class StreamFailed extends Exception {
        StreamFailed(Throwable cause) {
            super(cause);
        }
    }

    /** The AI service of step {@code tool}. */
    public interface Assistant {
        String chat(String message);
    }

    /** The tool the model of step {@code tool} asks for. */
    public static final class Calculator {
        final AtomicInteger calls = new AtomicInteger();

        @Tool("Adds two whole numbers")
        public int add(int a, int b) {
            calls.incrementAndGet();
            return a + b;
        }
    }

    /** The Responses API model, which only newer versions have: loaded only when the step runs. */
    static final class Responses {
        static void run(String step, String openai) {
            ChatModel model = OpenAiResponsesChatModel.builder().baseUrl(openai).apiKey(KEY).modelName("gpt-4.1-mini")
                    .build();
            repeat(step, i -> tokens(model.chat(UserMessage.from("ticket " + i + ": the printer jams"))));
        }
    }

    /** langchain4j-open-ai-official, on openai-java: loaded only when its steps run. */
    static final class Official {
        static void chat(String step, String openai) {
            ChatModel model = OpenAiOfficialChatModel.builder().baseUrl(openai).apiKey(KEY).modelName("gpt-4o-mini")
                    .maxRetries(2).build();
            repeat(step, i -> tokens(model.chat(UserMessage.from("ticket " + i + ": the printer jams"))));
        }

        static void stream(String step, String openai) {
            StreamingChatModel model = OpenAiOfficialStreamingChatModel.builder().baseUrl(openai).apiKey(KEY)
                    .modelName("gpt-4o").build();
            repeat(step, i -> LangChain4jScenarioApp.stream(model, "ticket " + i + ": the scanner is slow"));
        }
    }
}
