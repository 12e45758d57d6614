package dev.tokenguard.sample;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.tokenguard.sample.stub.FakeAnthropicServer;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A small "support ticket summarizer" that calls an LLM through openai-java or anthropic-java and
 * knows nothing of TokenGuard.
 *
 * <p>{@code --provider openai} (the default): without {@code OPENAI_API_KEY} it starts the embedded
 * {@link FakeOpenAiServer} and talks to it, so it runs offline; with {@code OPENAI_API_KEY} it talks
 * to the OpenAI API (or to {@code OPENAI_BASE_URL} when set). The model is {@code SAMPLE_MODEL},
 * default {@code gpt-4o-mini}.
 *
 * <p>{@code --provider anthropic}: the same with anthropic-java, the embedded
 * {@link FakeAnthropicServer}, {@code ANTHROPIC_API_KEY}, {@code ANTHROPIC_BASE_URL} (default the
 * Anthropic API) and the default model {@code claude-haiku-4-5}.
 *
 * <p>Usage: {@code SampleApp [--tickets N] [--provider openai|anthropic]}, N from 1 to 12 (default
 * 12). Exit status: 0 when every ticket was summarized or a token budget refused a call; 1 when a
 * call failed otherwise; 2 for bad arguments.
 */
public final class SampleApp {

    static final String DEFAULT_MODEL = "gpt-4o-mini";
    static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
    static final String DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5";
    static final String DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com";
    private static final String USAGE = "usage: SampleApp [--tickets N] [--provider openai|anthropic]   (N from 1 to "
            + Ticket.ALL.size() + "; the provider defaults to openai)";

    /** Summarizes one ticket; {@code index} is its position in the run, from 0. */
    interface Summarizer {

        /** The system prompt every summarizer sends. */
        String INSTRUCTIONS = "You are a support assistant. Summarize the customer's ticket in one short sentence.";

        Summary summarize(int index, Ticket ticket);
    }

    /** The LLM provider the tickets are sent to. */
    enum Provider {
        OPENAI, ANTHROPIC;

        static Provider parse(String value) {
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "openai" -> OPENAI;
                case "anthropic" -> ANTHROPIC;
                default -> throw new IllegalArgumentException(
                        "--provider must be openai or anthropic, got '" + value + "'");
            };
        }
    }

    /** The parsed command line. */
    record Arguments(int tickets, Provider provider) {
    }

    private SampleApp() {
    }

    public static void main(String[] args) {
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
                            : "--provider needs openai or anthropic");
                }
                value = args[++i];
            } else if (arg.startsWith("--tickets=") || arg.startsWith("--provider=")) {
                option = arg.substring(0, arg.indexOf('='));
                value = arg.substring(option.length() + 1);
            } else {
                throw new IllegalArgumentException("unknown argument '" + arg
                        + "'; the options are --tickets N and --provider openai|anthropic");
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
