package dev.tokenguard.sample;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.azure.ai.openai.OpenAIClientBuilder;
import com.azure.core.credential.AzureKeyCredential;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.policy.AddHeadersPolicy;
import com.google.genai.Client;
import com.google.genai.types.HttpOptions;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeBedrockServer;
import dev.tokenguard.sample.stub.FakeGeminiServer;
import dev.tokenguard.sample.stub.FakeOllamaServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import io.github.ollama4j.Ollama;
import java.io.PrintStream;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;

/**
 * A small "support ticket summarizer" that calls an LLM through a provider's own Java SDK and knows nothing of
 * TokenGuard. Every provider runs the same flow: the tickets one by one on the main thread, one line each, through
 * that SDK's blocking client, against an embedded offline stub of the provider's API (a loopback server that speaks
 * its real wire format) unless that provider's credentials are in the environment. No key is ever printed.
 *
 * <ul>
 *   <li>{@code --provider openai} (the default), openai-java: without {@code OPENAI_API_KEY} the embedded
 *       {@link FakeOpenAiServer}; with it the OpenAI API (or {@code OPENAI_BASE_URL} when set). Default model
 *       {@code gpt-4o-mini}.</li>
 *   <li>{@code --provider anthropic}, anthropic-java: the same with {@link FakeAnthropicServer},
 *       {@code ANTHROPIC_API_KEY} and {@code ANTHROPIC_BASE_URL}. Default model {@code claude-haiku-4-5}.</li>
 *   <li>{@code --provider gemini}, the Google GenAI SDK on the Gemini API: {@link FakeGeminiServer} unless
 *       {@code GOOGLE_API_KEY} or {@code GEMINI_API_KEY} is set (the first wins, as in the SDK), then the Gemini API
 *       (or {@code GOOGLE_GEMINI_BASE_URL}). Default model {@code gemini-2.5-flash}.</li>
 *   <li>{@code --provider bedrock}, the AWS SDK's {@code BedrockRuntimeClient}: {@link FakeBedrockServer} (with
 *       fake static credentials) unless {@code AWS_REGION} is set, then Bedrock Runtime in that region (or at
 *       {@code AWS_ENDPOINT_URL_BEDROCK_RUNTIME}), signed with {@code AWS_ACCESS_KEY_ID} /
 *       {@code AWS_SECRET_ACCESS_KEY} (/ {@code AWS_SESSION_TOKEN}) when set, else the SDK's default credentials
 *       (profile, SSO, instance role...). Default model {@code anthropic.claude-3-haiku-20240307-v1:0}.</li>
 *   <li>{@code --provider azure}, {@code com.azure:azure-ai-openai}: {@link FakeOpenAiServer}'s Azure paths unless
 *       {@code AZURE_OPENAI_ENDPOINT} and {@code AZURE_OPENAI_API_KEY} are both set, then that resource. The model is
 *       the deployment's name, default {@code gpt-4o-mini}. The key goes as a key credential over HTTPS; to a plain
 *       HTTP endpoint (a local gateway, the stub), which azure-core refuses a key credential, as the {@code api-key}
 *       header the credential would have set.</li>
 *   <li>{@code --provider ollama}, ollama4j: {@link FakeOllamaServer} unless {@code OLLAMA_HOST} is set (as the
 *       Ollama CLI reads it: {@code http://localhost:11434}, or {@code host:port}), then that server. Default model
 *       {@code llama3.2}.</li>
 * </ul>
 * {@code SAMPLE_MODEL} names another model (or Azure deployment) for any provider.
 *
 * <p>Usage: {@code SampleApp [--tickets N] [--provider openai|anthropic|gemini|bedrock|azure|ollama]}, N from 1 to
 * 12 (default 12). Exit status: 0 when every ticket was summarized or a token budget refused a call; 1 when a call
 * failed otherwise; 2 for bad arguments. The SDKs' own logging (SLF4J, java.util.logging) is silenced, so the app
 * prints only its own lines.
 */
public final class SampleApp {

    static final String DEFAULT_MODEL = "gpt-4o-mini";
    static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
    static final String DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5";
    static final String DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com";
    static final String DEFAULT_GEMINI_MODEL = "gemini-2.5-flash";
    static final String DEFAULT_GEMINI_BASE_URL = "https://generativelanguage.googleapis.com";
    static final String DEFAULT_BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0";
    static final String DEFAULT_AZURE_DEPLOYMENT = "gpt-4o-mini";
    static final String DEFAULT_OLLAMA_MODEL = "llama3.2";
    /** The stubs' fake credentials: what a client needs to send a request, never a real secret. */
    static final String STUB_KEY = "offline-stub-key";
    static final String STUB_AWS_ACCESS_KEY = "AKIAOFFLINESTUB00000";
    /** A long read timeout for a local model: ollama4j's default (10 s) is shorter than a summary on a CPU. */
    static final long OLLAMA_TIMEOUT_SECONDS = 300;
    private static final String USAGE = "usage: SampleApp [--tickets N] [--provider " + Provider.names("|")
            + "]   (N from 1 to " + Ticket.ALL.size() + "; the provider defaults to openai)";

    /** Summarizes one ticket; {@code index} is its position in the run, from 0. */
    interface Summarizer {

        /** The system prompt every summarizer sends. */
        String INSTRUCTIONS = "You are a support assistant. Summarize the customer's ticket in one short sentence.";

        Summary summarize(int index, Ticket ticket);
    }

    /** The LLM provider the tickets are sent to, each through its own SDK. */
    enum Provider {
        OPENAI, ANTHROPIC, GEMINI, BEDROCK, AZURE, OLLAMA;

        /** The name {@code --provider} takes. */
        String optionValue() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Every name {@code --provider} takes, in order, joined by {@code separator}. */
        static String names(String separator) {
            return Stream.of(values()).map(Provider::optionValue).collect(Collectors.joining(separator));
        }

        static Provider parse(String value) {
            String wanted = value.strip().toLowerCase(Locale.ROOT);
            for (Provider provider : values()) {
                if (provider.optionValue().equals(wanted)) {
                    return provider;
                }
            }
            throw new IllegalArgumentException("--provider must be one of " + names(", ") + ", got '" + value + "'");
        }
    }

    /** The parsed command line. */
    record Arguments(int tickets, Provider provider) {
    }

    /**
     * The Google GenAI SDK logs through java.util.logging (the other SDKs through SLF4J, which goes nowhere here);
     * held so that its level stays set.
     */
    private static final Logger GENAI_LOGGER = Logger.getLogger("com.google.genai");

    private SampleApp() {
    }

    public static void main(String[] args) {
        GENAI_LOGGER.setLevel(Level.OFF);
        int status = run(args, System.getenv(), System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        Arguments arguments;
        try {
            arguments = parse(args);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println(USAGE);
            return 2;
        }
        List<Ticket> tickets = Ticket.ALL.subList(0, arguments.tickets());
        return switch (arguments.provider()) {
            case OPENAI -> runOpenAi(tickets, env, out, err);
            case ANTHROPIC -> runAnthropic(tickets, env, out, err);
            case GEMINI -> runGemini(tickets, env, out, err);
            case BEDROCK -> runBedrock(tickets, env, out, err);
            case AZURE -> runAzure(tickets, env, out, err);
            case OLLAMA -> runOllama(tickets, env, out, err);
        };
    }

    private static int runOpenAi(List<Ticket> tickets, Map<String, String> env, PrintStream out, PrintStream err) {
        String model = nonBlank(env.get("SAMPLE_MODEL")).orElse(DEFAULT_MODEL);
        Optional<String> apiKey = nonBlank(env.get("OPENAI_API_KEY"));
        FakeOpenAiServer stub = null;
        OpenAIClient client;
        if (apiKey.isPresent()) {
            String baseUrl = nonBlank(env.get("OPENAI_BASE_URL")).orElse(DEFAULT_BASE_URL);
            client = OpenAIOkHttpClient.builder().apiKey(apiKey.get()).baseUrl(baseUrl).build();
            out.println("Using the OpenAI API at " + baseUrl + " with model " + model + ".");
        } else {
            stub = FakeOpenAiServer.start();
            client = OpenAIOkHttpClient.builder().apiKey("sk-offline-stub").baseUrl(stub.baseUrl()).build();
            out.println("OPENAI_API_KEY is not set: using the offline OpenAI stub at " + stub.baseUrl()
                    + " with model " + model + ".");
        }
        try {
            return summarizeAll(tickets, new OpenAiSummarizer(client, model), out, err);
        } finally {
            client.close();
            if (stub != null) {
                stub.close();
            }
        }
    }

    private static int runAnthropic(List<Ticket> tickets, Map<String, String> env, PrintStream out, PrintStream err) {
        String model = nonBlank(env.get("SAMPLE_MODEL")).orElse(DEFAULT_ANTHROPIC_MODEL);
        Optional<String> apiKey = nonBlank(env.get("ANTHROPIC_API_KEY"));
        FakeAnthropicServer stub = null;
        AnthropicClient client;
        if (apiKey.isPresent()) {
            String baseUrl = nonBlank(env.get("ANTHROPIC_BASE_URL")).orElse(DEFAULT_ANTHROPIC_BASE_URL);
            client = AnthropicOkHttpClient.builder().apiKey(apiKey.get()).baseUrl(baseUrl).build();
            out.println("Using the Anthropic API at " + baseUrl + " with model " + model + ".");
        } else {
            stub = FakeAnthropicServer.start();
            client = AnthropicOkHttpClient.builder().apiKey("sk-ant-offline-stub").baseUrl(stub.baseUrl()).build();
            out.println("ANTHROPIC_API_KEY is not set: using the offline Anthropic stub at " + stub.baseUrl()
                    + " with model " + model + ".");
        }
        try {
            return summarizeAll(tickets, new AnthropicSummarizer(client, model), out, err);
        } finally {
            client.close();
            if (stub != null) {
                stub.close();
            }
        }
    }

    private static int runGemini(List<Ticket> tickets, Map<String, String> env, PrintStream out, PrintStream err) {
        String model = nonBlank(env.get("SAMPLE_MODEL")).orElse(DEFAULT_GEMINI_MODEL);
        Optional<String> apiKey = nonBlank(env.get("GOOGLE_API_KEY")).or(() -> nonBlank(env.get("GEMINI_API_KEY")));
        FakeGeminiServer stub = null;
        String baseUrl;
        if (apiKey.isPresent()) {
            baseUrl = nonBlank(env.get("GOOGLE_GEMINI_BASE_URL")).orElse(DEFAULT_GEMINI_BASE_URL);
            out.println("Using the Gemini API at " + baseUrl + " with model " + model + ".");
        } else {
            stub = FakeGeminiServer.start();
            baseUrl = stub.rootUrl();
            out.println("GOOGLE_API_KEY and GEMINI_API_KEY are not set: using the offline Gemini stub at " + baseUrl
                    + " with model " + model + ".");
        }
        try (FakeGeminiServer closeStub = stub;
             Client client = geminiClient(apiKey.orElse(STUB_KEY), baseUrl)) {
            return summarizeAll(tickets, new GeminiSummarizer(client, model), out, err);
        }
    }

    private static int runBedrock(List<Ticket> tickets, Map<String, String> env, PrintStream out, PrintStream err) {
        String model = nonBlank(env.get("SAMPLE_MODEL")).orElse(DEFAULT_BEDROCK_MODEL);
        Optional<String> region = nonBlank(env.get("AWS_REGION"));
        FakeBedrockServer stub = null;
        BedrockRuntimeClient client;
        if (region.isPresent()) {
            Optional<String> endpoint = nonBlank(env.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"));
            client = bedrockClient(endpoint.map(URI::create).orElse(null), Region.of(region.get()),
                    awsCredentials(env));
            out.println("Using Amazon Bedrock in " + region.get() + endpoint.map(e -> " at " + e).orElse("")
                    + " with model " + model + ".");
        } else {
            stub = FakeBedrockServer.start();
            client = bedrockClient(URI.create(stub.baseUrl()), Region.US_EAST_1, StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(STUB_AWS_ACCESS_KEY, STUB_KEY)));
            out.println("AWS_REGION is not set: using the offline Bedrock stub at " + stub.baseUrl()
                    + " with model " + model + ".");
        }
        try (FakeBedrockServer closeStub = stub; BedrockRuntimeClient closeClient = client) {
            return summarizeAll(tickets, new BedrockSummarizer(client, model), out, err);
        }
    }

    private static int runAzure(List<Ticket> tickets, Map<String, String> env, PrintStream out, PrintStream err) {
        String deployment = nonBlank(env.get("SAMPLE_MODEL")).orElse(DEFAULT_AZURE_DEPLOYMENT);
        Optional<String> endpoint = nonBlank(env.get("AZURE_OPENAI_ENDPOINT"));
        Optional<String> apiKey = nonBlank(env.get("AZURE_OPENAI_API_KEY"));
        FakeOpenAiServer stub = null;
        String url;
        if (endpoint.isPresent() && apiKey.isPresent()) {
            url = endpoint.get();
            out.println("Using Azure OpenAI at " + url + " with deployment " + deployment + ".");
        } else {
            stub = FakeOpenAiServer.start();
            url = stub.azureEndpoint();
            out.println("AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY are not both set: using the offline Azure"
                    + " OpenAI stub at " + url + " with deployment " + deployment + ".");
        }
        try (FakeOpenAiServer closeStub = stub) {
            com.azure.ai.openai.OpenAIClient client = azureClient(url, stub == null ? apiKey.get() : STUB_KEY);
            return summarizeAll(tickets, new AzureOpenAiSummarizer(client, deployment), out, err);
        }
    }

    private static int runOllama(List<Ticket> tickets, Map<String, String> env, PrintStream out, PrintStream err) {
        String model = nonBlank(env.get("SAMPLE_MODEL")).orElse(DEFAULT_OLLAMA_MODEL);
        Optional<String> host = nonBlank(env.get("OLLAMA_HOST")).map(SampleApp::ollamaUrl);
        FakeOllamaServer stub = null;
        String url;
        if (host.isPresent()) {
            url = host.get();
            out.println("Using Ollama at " + url + " with model " + model + ".");
        } else {
            stub = FakeOllamaServer.start();
            url = stub.baseUrl();
            out.println("OLLAMA_HOST is not set: using the offline Ollama stub at " + url + " with model " + model
                    + ".");
        }
        try (FakeOllamaServer closeStub = stub) {
            return summarizeAll(tickets, new OllamaSummarizer(ollamaClient(url), model), out, err);
        }
    }

    /**
     * A Google GenAI client of the Gemini API at {@code baseUrl} (the root: the SDK adds the API version), named
     * explicitly, so that a {@code GOOGLE_GENAI_USE_VERTEXAI} in the environment does not turn it into a Vertex AI
     * client.
     */
    static Client geminiClient(String apiKey, String baseUrl) {
        return Client.builder().vertexAI(false).apiKey(apiKey)
                .httpOptions(HttpOptions.builder().baseUrl(baseUrl).build()).build();
    }

    /** A Bedrock Runtime client of that region, at {@code endpoint} when not null. */
    static BedrockRuntimeClient bedrockClient(URI endpoint, Region region, AwsCredentialsProvider credentials) {
        var builder = BedrockRuntimeClient.builder().region(region).credentialsProvider(credentials);
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder.build();
    }

    /** The AWS credentials of {@code env}'s {@code AWS_ACCESS_KEY_ID} and so on, else the SDK's default chain. */
    static AwsCredentialsProvider awsCredentials(Map<String, String> env) {
        Optional<String> accessKey = nonBlank(env.get("AWS_ACCESS_KEY_ID"));
        Optional<String> secretKey = nonBlank(env.get("AWS_SECRET_ACCESS_KEY"));
        if (accessKey.isEmpty() || secretKey.isEmpty()) {
            return DefaultCredentialsProvider.builder().build();
        }
        Optional<String> sessionToken = nonBlank(env.get("AWS_SESSION_TOKEN"));
        return StaticCredentialsProvider.create(sessionToken.isPresent()
                ? AwsSessionCredentials.create(accessKey.get(), secretKey.get(), sessionToken.get())
                : AwsBasicCredentials.create(accessKey.get(), secretKey.get()));
    }

    /**
     * An Azure OpenAI client of the resource at {@code endpoint}. Over HTTPS the key is the usual key credential;
     * azure-core refuses to send a credential over plain HTTP, so to an {@code http://} endpoint (a local gateway,
     * the stub) it goes as the {@code api-key} header that the credential would have set.
     */
    static com.azure.ai.openai.OpenAIClient azureClient(String endpoint, String apiKey) {
        OpenAIClientBuilder builder = new OpenAIClientBuilder().endpoint(endpoint);
        if (endpoint.toLowerCase(Locale.ROOT).startsWith("https://")) {
            builder.credential(new AzureKeyCredential(apiKey));
        } else {
            builder.addPolicy(new AddHeadersPolicy(new HttpHeaders().set("api-key", apiKey)));
        }
        return builder.buildClient();
    }

    /** An ollama4j client of the Ollama server at {@code url}. */
    static Ollama ollamaClient(String url) {
        Ollama ollama = new Ollama(url);
        ollama.setRequestTimeoutSeconds(OLLAMA_TIMEOUT_SECONDS);
        return ollama;
    }

    /**
     * {@code OLLAMA_HOST} as a URL, read as the Ollama CLI reads it: with a scheme it is a URL; without one it is
     * {@code host[:port][/path]} over plain HTTP, on port 11434 when it names none.
     */
    static String ollamaUrl(String host) {
        if (host.contains("://")) {
            return host;
        }
        String hostPort = host.split("/", 2)[0];
        boolean hasPort = hostPort.startsWith("[") ? hostPort.contains("]:") : hostPort.contains(":");
        return "http://" + (hasPort ? host : hostPort + ":11434" + host.substring(hostPort.length()));
    }

    /**
     * Summarizes the tickets one by one on the calling thread, printing one line per ticket. Stops
     * at the first failure: a token-budget refusal prints {@code refused: <message>} and returns 0,
     * any other failure is printed to {@code err} and returns 1.
     */
    static int summarizeAll(List<Ticket> tickets, Summarizer summarizer, PrintStream out, PrintStream err) {
        long reported = 0;
        for (int i = 0; i < tickets.size(); i++) {
            Ticket ticket = tickets.get(i);
            Summary summary;
            try {
                summary = summarizer.summarize(i, ticket);
            } catch (RuntimeException e) {
                Optional<Throwable> refusal = budgetRefusal(e);
                if (refusal.isPresent()) {
                    out.println("refused: " + refusal.get().getMessage());
                    return 0;
                }
                err.println(ticket.id() + " failed: " + e.getClass().getName() + ": " + e.getMessage());
                return 1;
            }
            out.println(line(ticket, summary));
            if (summary.usageReported()) {
                reported += summary.inputTokens() + summary.outputTokens();
            }
        }
        out.println("Summarized " + tickets.size() + " tickets; the responses reported " + reported + " tokens.");
        return 0;
    }

    /**
     * The budget refusal a token-governing agent threw, if {@code e} is one or was caused by one.
     * Matched by simple class name: this app does not depend on any agent.
     */
    static Optional<Throwable> budgetRefusal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getClass().getSimpleName().equals("BudgetExhaustedException")) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    static String line(Ticket ticket, Summary summary) {
        String tokens = summary.usageReported()
                ? (summary.inputTokens() + summary.outputTokens()) + " tokens (" + summary.inputTokens() + " in, "
                        + summary.outputTokens() + " out)"
                : "usage not reported";
        return String.format("%s  %-11s  %-28s  %s", ticket.id(), summary.method(), tokens, firstWords(summary.text(), 8));
    }

    static String firstWords(String text, int words) {
        String[] all = text.strip().split("\\s+");
        if (all.length <= words) {
            return text.strip();
        }
        return String.join(" ", Arrays.copyOf(all, words)) + " ...";
    }

    static Arguments parse(String[] args) {
        int count = Ticket.ALL.size();
        Provider provider = Provider.OPENAI;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String option;
            String value;
            if (arg.equals("--tickets") || arg.equals("--provider")) {
                option = arg;
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(option.equals("--tickets")
                            ? "--tickets needs a number from 1 to " + Ticket.ALL.size()
                            : "--provider needs one of " + Provider.names(", "));
                }
                value = args[++i];
            } else if (arg.startsWith("--tickets=") || arg.startsWith("--provider=")) {
                option = arg.substring(0, arg.indexOf('='));
                value = arg.substring(option.length() + 1);
            } else {
                throw new IllegalArgumentException("unknown argument '" + arg
                        + "'; the options are --tickets N and --provider " + Provider.names("|"));
            }
            if (option.equals("--provider")) {
                provider = Provider.parse(value);
                continue;
            }
            try {
                count = Integer.parseInt(value.strip());
            } catch (NumberFormatException e) {
                count = -1;
            }
            if (count < 1 || count > Ticket.ALL.size()) {
                throw new IllegalArgumentException("--tickets must be a whole number from 1 to " + Ticket.ALL.size()
                        + ", got '" + value + "'");
            }
        }
        return new Arguments(count, provider);
    }

    private static Optional<String> nonBlank(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }
}
