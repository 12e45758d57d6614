package dev.tokenguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sample app's other providers as the README runs the OpenAI one: the built sample jar under the built agent
 * with a budget of 900 tokens, against the app's embedded stub of that provider, through that provider's own SDK.
 * Each run must show what the OpenAI run shows (see {@code OpenAiAgentIT}): the warnings at 75, 90 and 95 %, then
 * the refusal of the next call, printed by the app; and nothing else on either stream but the app's own lines and
 * the agent's start-up lines (the SDKs' logging stays quiet).
 *
 * <p>The oracle of the tokens charged is what the app printed for each ticket: the usage the stub reported, read
 * back through the SDK by the app, with no agent code in between. One forked JVM per provider.
 */
class SampleAppProvidersIT {
    static final long LIMIT = 900;
    static final Pattern TICKET = Pattern.compile("^(T-\\d{4})  (\\S+)\\s+(?:(\\d+) tokens \\((\\d+) in, (\\d+) out\\)"
            + "|usage not reported)\\s+.*$");
    static final Pattern REFUSED = Pattern.compile("^refused: Token budget 'default' exhausted for scope "
            + "thread:main#1: ([\\d,]+) of 900 tokens used; refused (.+)$");
    static final Pattern STARTUP = Pattern.compile("^\\[tokenguard] TokenGuard: governing [a-z0-9-]+( \\S+)?$");
    /** The credentials that would send a provider to its real service; blank counts as unset for the app. */
    static final Map<String, String> NO_CREDENTIALS = Map.of("GOOGLE_API_KEY", "", "GEMINI_API_KEY", "",
            "AWS_REGION", "", "AZURE_OPENAI_ENDPOINT", "", "AZURE_OPENAI_API_KEY", "", "OLLAMA_HOST", "",
            "SAMPLE_MODEL", "");

    @TempDir
    Path work;

    /**
     * @param provider  the value of {@code --provider}
     * @param plugin    the agent plugin that governs that SDK
     * @param semconv   the provider as the session log names it
     * @param operation the operation of the refused call, as the refusal names it
     * @param model     the app's default model (or deployment) for that provider
     */
    @ParameterizedTest(name = "--provider {0}")
    @CsvSource({
            "bedrock, aws-bedrock,     aws.bedrock,     chat, anthropic.claude-3-haiku-20240307-v1:0",
            "azure,   azure-ai-openai, azure.ai.openai, chat, gpt-4o-mini",
            "gemini,  google-genai,    gcp.gemini,      generate_content, gemini-2.5-flash",
            "ollama,  ollama4j,        ollama,          chat, llama3.2",
    })
    void warnsThenRefusesAsTheOpenAiRunDoes(String provider, String plugin, String semconv, String operation,
                                            String model) throws Exception {
        Path sampleJar = Path.of(System.getProperty("tokenguard.sample.jar")).toAbsolutePath();
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(work, "budget.max-tokens=" + LIMIT, List.of(),
                NO_CREDENTIALS, sampleJar.toString(), "dev.tokenguard.sample.SampleApp", "--provider", provider);
        assertEquals(0, result.exitCode(), result::toString);

        // nothing but the agent's start-up lines besides the app's, one of them this SDK's plugin
        List<String> agentLines = result.agentLines();
        assertTrue(agentLines.contains("[tokenguard] TokenGuard: governing " + plugin), result::toString);
        assertTrue(agentLines.stream().allMatch(l -> STARTUP.matcher(l).matches()), result::toString);
        assertEquals(agentLines, result.stderr(), "stderr holds the agent's lines only: " + result);

        // stdout: the stub line, one line per summarized ticket, then the refusal
        List<String> stdout = result.stdout();
        assertTrue(stdout.get(0).contains("using the offline ") && stdout.get(0).endsWith(" " + model + "."),
                result::toString);
        List<Matcher> tickets = new ArrayList<>();
        for (String line : stdout.subList(1, stdout.size() - 1)) {
            Matcher ticket = TICKET.matcher(line);
            assertTrue(ticket.matches(), "a ticket line: " + line);
            tickets.add(ticket);
        }
        Matcher refused = REFUSED.matcher(stdout.get(stdout.size() - 1));
        assertTrue(refused.matches(), result::toString);
        assertEquals(semconv + " " + operation + " " + model, refused.group(2));

        SessionLogs logs = SessionLogs.read(work.resolve("tokenguard-sessions"));
        assertEquals(List.of(0.75, 0.9, 0.95), logs.of("budget_warning").stream()
                .map(w -> w.get("threshold").asDouble()).toList());
        List<JsonNode> exceeded = logs.of("budget_exceeded");
        assertEquals(1, exceeded.size());
        assertEquals(semconv, exceeded.get(0).get("provider").asText());
        assertEquals(model, exceeded.get(0).get("request_model").asText());

        // one charge per summarized ticket, of the tokens the app was shown; the refused call sent nothing
        List<JsonNode> calls = logs.of("llm_call");
        assertEquals(tickets.size(), calls.size(), result::toString);
        long charged = 0;
        int compared = 0;
        for (int i = 0; i < calls.size(); i++) {
            JsonNode call = calls.get(i);
            Matcher ticket = tickets.get(i);
            assertEquals(semconv, call.get("provider").asText(), call.toString());
            assertEquals(model, call.get("request_model").asText(), call.toString());
            if (ticket.group(3) == null) {
                // a stream the app saw no usage of: the provider's counts, or (Azure's client on the loopback stub,
                // not an Azure host) the estimate of the stream that showed the agent the stub sends none unasked
                assertTrue(List.of("provider", "estimated").contains(call.get("usage_source").asText()),
                        call.toString());
            } else {
                assertEquals("provider", call.get("usage_source").asText(), call.toString());
                assertEquals(Long.parseLong(ticket.group(4)), call.get("input_tokens").asLong(), ticket.group());
                assertEquals(Long.parseLong(ticket.group(5)), call.get("output_tokens").asLong(), ticket.group());
                compared++;
            }
            long total = call.get("total_tokens").asLong();
            assertTrue(charged < LIMIT, "only the call that crossed the limit went through at or past it");
            charged += total;
        }
        assertTrue(compared >= calls.size() - 1, "at most one ticket (a stream) shows no usage: " + result);
        assertTrue(charged >= LIMIT, "refused only once the budget is used up: " + charged);
        assertEquals(String.format(Locale.ROOT, "%,d", charged), refused.group(1));
        assertEquals(charged, exceeded.get(0).get("used").asLong());
    }
}
