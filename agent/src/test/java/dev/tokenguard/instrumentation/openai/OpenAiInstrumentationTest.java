package dev.tokenguard.instrumentation.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.ResponseCreateParams;
import dev.tokenguard.agent.AgentInstaller;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.StubUsage;
import dev.tokenguard.sessionlog.SessionLogWriter;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The openai-java instrumentation in this JVM: the real SDK, the fake server, the real engine and log. */
class OpenAiInstrumentationTest {
    @TempDir
    Path dir;
    FakeOpenAiServer server;
    OpenAIClient client;
    BudgetEngine engine;
    SessionLogWriter log;

    void install(long maxTokens) {
        install(maxTokens, Governor.Settings.DEFAULT);
    }

    void install(long maxTokens, Governor.Settings settings) {
        install(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, maxTokens, null, null, null, null,
                new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE), settings);
    }

    void install(BudgetSpec spec, Governor.Settings settings) {
        log = new SessionLogWriter(dir, "test", ProcessHandle.current().pid(), Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        SessionListener listener = log.sessionListener();
        engine = new BudgetEngine(List.of(spec), Clock.systemUTC(), MdcSource.NONE, listener);
        AgentInstaller.install(new Governor(engine, log, Telemetry.NONE, Clock.systemUTC(), settings),
                ByteBuddyAgent.install());
    }

    @BeforeEach
    void start() {
        server = FakeOpenAiServer.start();
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("sk-secret-do-not-log").maxRetries(0)
                .build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
        engine.close();
        log.close();
    }

    static ChatCompletionCreateParams chat(String text) {
        return ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O).addUserMessage(text).build();
    }

    List<JsonNode> events(String event) throws Exception {
        return SessionLogEvents.of(dir, event);
    }

    @Test
    void aSyncChatIsChargedWithTheReportedUsage() throws Exception {
        install(1_000_000);
        ChatCompletion completion = client.chat().completions().create(chat("hello"));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        JsonNode call = calls.get(0);
        assertEquals(completion.usage().orElseThrow().promptTokens(), call.get("input_tokens").asLong());
        assertEquals(completion.usage().orElseThrow().completionTokens(), call.get("output_tokens").asLong());
        assertEquals("gpt-4o", call.get("request_model").asText());
        assertEquals("chat", call.get("operation").asText());
        assertEquals("provider", call.get("usage_source").asText());
        assertTrue(!Files.readString(Files.list(dir).findFirst().orElseThrow()).contains("sk-secret"),
                "the API key never reaches the log");
    }

    @Test
    void aRawResponseParsedByTheAppIsChargedOnce() throws Exception {
        install(1_000_000);
        HttpResponseFor<ChatCompletion> raw = client.chat().completions().withRawResponse().create(chat("raw"));
        assertEquals(200, raw.statusCode());
        ChatCompletion first = raw.parse();
        ChatCompletion second = raw.parse();
        assertTrue(first == second, "parse stays memoised");
        assertEquals(1, events("llm_call").size());
        assertEquals(server.totalInputTokens(), events("llm_call").get(0).get("input_tokens").asLong());
    }

    @Test
    void anExhaustedBudgetRefusesBeforeAnyRequestLeaves() throws Exception {
        install(1);
        client.chat().completions().create(chat("the only call"));
        int served = server.requestCount();
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> client.chat().completions().create(chat("refused")));
        assertEquals(served, server.requestCount());
        assertEquals("default", refusal.budgetName());
        assertTrue(refusal.scope().startsWith("thread:"), refusal.scope());
        assertEquals(1, refusal.limitTokens());
        assertEquals(1, events("budget_exceeded").size());
        assertThrows(BudgetExhaustedException.class,
                () -> client.chat().completions().createStreaming(chat("refused too")));
        assertEquals(served, server.requestCount());
    }

    /** Reads a stream to its end; returns {chunks, usage chunks} as the app saw them. */
    private int[] readStream(String text) {
        int chunks = 0;
        int usageChunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat(text))) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                chunks++;
                usageChunks += chunk.usage().isPresent() || chunk.choices().isEmpty() ? 1 : 0;
            }
        }
        return new int[] {chunks, usageChunks};
    }

    @Test
    void aStreamIsChargedOnceWithTheProviderUsageAndTheAppSeesNoUsageChunk() throws Exception {
        install(1_000_000);
        // the first stream to an endpoint not known yet goes out as the app built it: it shows whether the server
        // sends usage unasked (this one does not), and is charged a local estimate
        int[] first = readStream("probe");
        int[] second = readStream("stream");
        assertTrue(first[0] > 1 && second[0] > 1);
        assertEquals(0, first[1]);
        assertEquals(0, second[1]);
        assertEquals(2, server.requests().size());
        assertFalse(server.requests().get(0).usageReported(), "the first stream was sent as the app built it");
        assertTrue(server.requests().get(1).usageReported(), "then the agent asks for the usage chunk");
        List<JsonNode> calls = events("llm_call");
        assertEquals(2, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertEquals("provider", calls.get(1).get("usage_source").asText());
        StubUsage billed = server.requests().get(1).usage();
        assertEquals(billed.inputTokens() + billed.outputTokens(), calls.get(1).get("total_tokens").asLong());
        assertTrue(calls.get(1).get("streaming").asBoolean());
    }

    @Test
    void aFailedCallIsLoggedAsAnErrorAndChargesNothing() throws Exception {
        install(1_000_000);
        server.setFailNext(429);
        assertThrows(RateLimitException.class, () -> client.chat().completions().create(chat("limited")));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
        assertEquals(RateLimitException.class.getName(), calls.get(0).get("error_type").asText());
        assertTrue(calls.get(0).get("input_tokens").isNull());
    }

    @Test
    void afterAThresholdTheNextRequestCarriesABudgetNoticeAndContentIsCaptured() throws Exception {
        install(400, new Governor.Settings(true, true, null));
        int calls = 0;
        while (events("budget_warning").isEmpty() && calls < 20) {
            client.chat().completions().create(chat("tell me about printers " + calls));
            calls++;
            assertTrue(!server.lastRequest().body().contains("[TokenGuard]"), "no notice before a threshold");
        }
        assertTrue(!events("budget_warning").isEmpty(), "a threshold was crossed");
        ChatCompletion after = client.chat().completions().create(chat("and scanners?"));
        String sent = server.lastRequest().body();
        assertTrue(sent.contains("[TokenGuard] Budget note: ") && sent.contains("of this conversation's budget is used"), sent);
        assertTrue(!after.choices().isEmpty());

        JsonNode last = events("llm_call").get(events("llm_call").size() - 1);
        assertTrue(last.get("prompt").asText().contains("and scanners?"), last.toString());
        assertEquals(after.choices().get(0).message().content().orElseThrow(), last.get("completion").asText());
        JsonNode sentJson = new ObjectMapper().readTree(sent);
        JsonNode note = sentJson.get("messages").get(sentJson.get("messages").size() - 1);
        assertEquals("system", note.get("role").asText(), "a system message where the app uses none of developer");
        assertTrue(last.get("notice_injected").asBoolean(), last.toString());
        assertEquals(1, events("llm_call").stream().filter(c -> c.get("notice_injected").asBoolean()).count());
    }

    @Test
    void theNoteIsADeveloperMessageWhereTheAppUsesThemAndAppendedInstructionsForResponses() throws Exception {
        install(2_000, new Governor.Settings(true, false, null));
        for (int i = 0; i < 60 && events("budget_warning").isEmpty(); i++) {
            client.chat().completions().create(chat("warm up " + i));
        }
        assertEquals(1, events("budget_warning").size(), "one threshold crossed");
        ChatCompletionCreateParams developer = ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O)
                .addDeveloperMessage("Answer in French.").addUserMessage("bonjour").build();
        String before = developer.toString();
        client.chat().completions().create(developer);
        JsonNode messages = new ObjectMapper().readTree(server.lastRequest().body()).get("messages");
        assertEquals(3, messages.size(), messages.toString());
        assertEquals("developer", messages.get(2).get("role").asText());
        assertTrue(messages.get(2).get("content").asText().startsWith("[TokenGuard] Budget note: 75% "),
                messages.toString());
        assertEquals(before, developer.toString(), "the app's request object is not changed");

        for (int i = 0; i < 60 && events("budget_warning").size() < 2; i++) {
            client.chat().completions().create(chat("more " + i));
        }
        assertEquals(2, events("budget_warning").size(), "the 90 % threshold crossed");
        client.responses().create(ResponseCreateParams.builder().model(ChatModel.GPT_4O).instructions("Be brief.")
                .input("status?").build());
        JsonNode sent = new ObjectMapper().readTree(server.lastRequest().body());
        assertTrue(sent.get("instructions").asText().startsWith("Be brief.\n\n[TokenGuard] Budget critical: 90% "),
                sent.toString());
        client.responses().create(ResponseCreateParams.builder().model(ChatModel.GPT_4O).instructions("Be brief.")
                .input("again?").build());
        assertEquals("Be brief.", new ObjectMapper().readTree(server.lastRequest().body()).get("instructions").asText(),
                "each crossing is injected once");
        assertEquals(2, events("llm_call").stream().filter(c -> c.get("notice_injected").asBoolean()).count());
    }

    // gpt-4o list prices in USD per 1M tokens, from the built-in table dev/tokenguard/pricing/prices.json,
    // entries "gpt-4o" and "gpt-4o-20*" (the fake server answers with gpt-4o-2024-08-06; both entries agree)
    static final BigDecimal GPT_4O_INPUT = new BigDecimal("2.50");
    static final BigDecimal GPT_4O_CACHED_INPUT = new BigDecimal("1.25");
    static final BigDecimal GPT_4O_OUTPUT = new BigDecimal("10.00");

    /** The cost of one gpt-4o request from the server's own ledger: cached input at its price, the rest at input. */
    static BigDecimal gpt4oCost(StubUsage usage) {
        long uncached = usage.inputTokens() - usage.cachedTokens();
        return GPT_4O_INPUT.multiply(BigDecimal.valueOf(uncached))
                .add(GPT_4O_CACHED_INPUT.multiply(BigDecimal.valueOf(usage.cachedTokens())))
                .add(GPT_4O_OUTPUT.multiply(BigDecimal.valueOf(usage.outputTokens())))
                .movePointLeft(6);
    }

    @Test
    void aCostBudgetPricesEveryCallWarnsInDollarsAndRefusesNamingTheCost() throws Exception {
        BigDecimal limit = new BigDecimal("0.002");
        BudgetSpec dollars = new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, null, null, null, 0.002, null,
                new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE);
        install(dollars, new Governor.Settings(false, false, dev.tokenguard.pricing.PriceTable::builtIn));
        BudgetExhaustedException refusal = null;
        int attempts = 0;
        for (int i = 0; i < 50 && refusal == null; i++) {
            attempts++;
            try {
                client.chat().completions().create(chat("price me " + i));
            } catch (BudgetExhaustedException e) {
                refusal = e;
            }
        }
        assertTrue(refusal != null, "a cost budget of $0.002 is exhausted by gpt-4o calls");

        List<RecordedRequest> served = server.requests();
        assertEquals(attempts - 1, served.size(), "every call but the refused one reached the server");
        assertTrue(served.size() >= 2, "the budget takes more than one call: " + served);
        List<BigDecimal> expected = new ArrayList<>();
        List<BigDecimal> cumulative = new ArrayList<>();
        BigDecimal total = BigDecimal.ZERO;
        for (RecordedRequest request : served) {
            assertTrue(request.answered() && request.usageReported(), request.toString());
            BigDecimal cost = gpt4oCost(request.usage());
            expected.add(cost);
            total = total.add(cost);
            cumulative.add(total);
        }
        assertTrue(served.stream().anyMatch(r -> r.usage().cachedTokens() > 0),
                "some request had cached input, priced at the cached price: " + served);

        List<JsonNode> calls = events("llm_call");
        assertEquals(served.size(), calls.size());
        for (int i = 0; i < calls.size(); i++) {
            assertEquals(expected.get(i).doubleValue(), calls.get(i).get("cost_usd").asDouble(), 1e-12,
                    "call " + (i + 1) + ": " + calls.get(i) + " / " + served.get(i));
        }
        BigDecimal beforeLast = cumulative.size() < 2 ? BigDecimal.ZERO : cumulative.get(cumulative.size() - 2);
        assertTrue(beforeLast.compareTo(limit) < 0 && total.compareTo(limit) >= 0,
                "refused exactly once the cost reached the limit: " + cumulative);
        assertTrue(refusal.getMessage().endsWith(String.format(java.util.Locale.ROOT,
                        "refused openai chat gpt-4o (cost limit: $%.4f of $0.0020 used)", total.doubleValue())),
                refusal.getMessage());

        // each threshold is reported once, by the call whose cost crossed it, in dollars
        double[] thresholds = {0.75, 0.9, 0.95};
        List<JsonNode> warnings = events("budget_warning");
        assertEquals(thresholds.length, warnings.size(), warnings::toString);
        for (int t = 0; t < thresholds.length; t++) {
            BigDecimal point = limit.multiply(BigDecimal.valueOf(thresholds[t]));
            BigDecimal usedAtCrossing = cumulative.stream().filter(c -> c.compareTo(point) >= 0).findFirst()
                    .orElseThrow();
            JsonNode warning = warnings.get(t);
            assertEquals(thresholds[t], warning.get("threshold").asDouble(), warning.toString());
            assertEquals("usd", warning.get("unit").asText(), warning.toString());
            assertEquals(0.002, warning.get("limit").asDouble(), 1e-12);
            assertEquals(usedAtCrossing.doubleValue(), warning.get("used").asDouble(), 1e-12, warning.toString());
        }
        List<JsonNode> exceeded = events("budget_exceeded");
        assertEquals(1, exceeded.size(), exceeded::toString);
        assertEquals("usd", exceeded.get(0).get("unit").asText());
        assertEquals(total.doubleValue(), exceeded.get(0).get("used").asDouble(), 1e-12, exceeded.get(0).toString());
    }
}
