package dev.tokenguard.it.app;

import dev.tokenguard.sample.scenarios.ScenarioRunner;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ConversationRole;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseResponse;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseStreamResponseHandler;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelResponse;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelWithResponseStreamResponseHandler;
import software.amazon.awssdk.services.bedrockruntime.model.Message;
import software.amazon.awssdk.services.bedrockruntime.model.SystemContentBlock;

import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Bedrock Runtime scenarios as an application's main, for forked JVMs: what an app would write with the AWS
 * SDK, knowing nothing of TokenGuard. Each scenario runs on a thread of its own (so under a budget of its own, the
 * default scope being the thread), one after the other, each call printing {@code OK <scenario> ...} or
 * {@code REFUSED ...} (see {@link ScenarioRunner}).
 *
 * <p>Arguments: {@code <scenario>[,<scenario>...] <endpoint> <calls>}; the scenarios are {@code converse},
 * {@code async-converse}, {@code converse-stream}, {@code invoke} and {@code invoke-stream}, each calling a model
 * id of its own ({@link #MODELS}) so that the server's ledger tells them apart.
 */
public final class BedrockScenarioApp {
    public static final String ACCESS_KEY = "AKIDFORKEDTESTKEY042";
    public static final String SECRET_KEY = "forked-secret-access-key-do-not-log";
    /** The scenarios, in the order they run, and the model id each calls. */
    public static final List<List<String>> MODELS = List.of(
            List.of("converse", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
            List.of("async-converse", "us.anthropic.claude-3-5-sonnet-20240620-v1:0"),
            List.of("converse-stream", "eu.anthropic.claude-3-5-sonnet-20240620-v1:0"),
            List.of("invoke", "anthropic.claude-3-5-haiku-20241022-v1:0"),
            List.of("invoke-stream", "us.anthropic.claude-3-5-haiku-20241022-v1:0"));

    private BedrockScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        URI endpoint = URI.create(args[1]);
        int calls = Integer.parseInt(args[2]);
        StaticCredentialsProvider credentials = StaticCredentialsProvider.create(
                AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
        try (BedrockRuntimeClient client = BedrockRuntimeClient.builder().endpointOverride(endpoint)
                .region(Region.US_EAST_1).credentialsProvider(credentials).build();
             BedrockRuntimeAsyncClient async = BedrockRuntimeAsyncClient.builder().endpointOverride(endpoint)
                     .region(Region.US_EAST_1).credentialsProvider(credentials)
                     // plain HTTP/1.1 to the loopback server (over TLS the client negotiates HTTP/2)
                     .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1)).build()) {
            for (String scenario : args[0].split(",")) {
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread thread = new Thread(() -> {
                    try {
                        new ScenarioRunner(System.out).repeat(calls, i -> run(scenario, client, async, i));
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                }, "bedrock-" + scenario);
                thread.start();
                thread.join();
                if (failure.get() != null) {
                    throw new IllegalStateException("scenario " + scenario + " failed", failure.get());
                }
            }
        }
        System.out.flush();
    }

    static String model(String scenario) {
        for (List<String> m : MODELS) {
            if (m.get(0).equals(scenario)) {
                return m.get(1);
            }
        }
        throw new IllegalArgumentException("unknown scenario " + scenario);
    }

    private static Message user(String text) {
        return Message.builder().role(ConversationRole.USER).content(ContentBlock.fromText(text)).build();
    }

    private static SdkBytes anthropicBody(String text) {
        return SdkBytes.fromUtf8String("{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":300,"
                + "\"system\":\"You summarise support tickets.\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + text + "\"}]}");
    }

    private static String run(String scenario, BedrockRuntimeClient client, BedrockRuntimeAsyncClient async, int i) {
        String model = model(scenario);
        String ticket = "Ticket " + i + ": the customer cannot log in after the password reset";
        switch (scenario) {
            case "converse" -> {
                ConverseResponse r = client.converse(b -> b.modelId(model)
                        .system(SystemContentBlock.fromText("You summarise support tickets."))
                        .messages(user(ticket)).inferenceConfig(c -> c.maxTokens(300)));
                return scenario + " tokens=" + r.usage().totalTokens();
            }
            case "async-converse" -> {
                ConverseResponse r = async.converse(b -> b.modelId(model).messages(user(ticket))).join();
                return scenario + " tokens=" + r.usage().totalTokens();
            }
            case "converse-stream" -> {
                AtomicInteger deltas = new AtomicInteger();
                AtomicInteger total = new AtomicInteger();
                ConverseStreamResponseHandler handler = ConverseStreamResponseHandler.builder()
                        .subscriber(ConverseStreamResponseHandler.Visitor.builder()
                                .onContentBlockDelta(d -> deltas.incrementAndGet())
                                .onMetadata(m -> total.set(m.usage().totalTokens())).build()).build();
                async.converseStream(b -> b.modelId(model).messages(user(ticket)), handler).join();
                return scenario + " deltas=" + deltas.get() + " tokens=" + total.get();
            }
            case "invoke" -> {
                InvokeModelResponse r = client.invokeModel(b -> b.modelId(model).body(anthropicBody(ticket)));
                return scenario + " bytes=" + r.body().asByteArray().length;
            }
            case "invoke-stream" -> {
                AtomicInteger chunks = new AtomicInteger();
                InvokeModelWithResponseStreamResponseHandler handler = InvokeModelWithResponseStreamResponseHandler
                        .builder().subscriber(InvokeModelWithResponseStreamResponseHandler.Visitor.builder()
                                .onChunk(c -> chunks.incrementAndGet()).build()).build();
                async.invokeModelWithResponseStream(b -> b.modelId(model).body(anthropicBody(ticket)), handler)
                        .join();
                return scenario + " chunks=" + chunks.get();
            }
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }
}
