package dev.tokenguard.instrumentation.openai;

import com.openai.core.JsonValue;
import com.openai.core.ObjectMappers;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.tokenguard.instrumentation.stainless.StainlessRequests;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The reservation's cheap bound of a request is the length in UTF-8 bytes of the body openai-java would send; the
 * SDK's mapper writes it into generators that are kept from one request to the next. The oracle is the SDK's own
 * {@code writeValueAsBytes} of the same body.
 */
class OpenAiBodyLengthTest {

    private static ChatCompletionCreateParams params(String question) {
        return ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .addSystemMessage("You summarise support tickets in one sentence.")
                .addUserMessage(question)
                .build();
    }

    private static long sdkLength(ChatCompletionCreateParams params) throws Exception {
        return ObjectMappers.jsonMapper().writeValueAsBytes(params._body()).length;
    }

    /**
     * The first bodies of a JVM are counted through plain reflection, the later ones with kept generators (which the
     * tests below are about): both count what the SDK sends.
     */
    @BeforeAll
    static void thePlainBodiesCountAsTheSdkWritesThem() throws Exception {
        ChatCompletionCreateParams p = params("Ticket 41: the plain count");
        for (int i = 0; i < StainlessRequests.PLAIN_BODIES; i++) {
            assertEquals(sdkLength(p), StainlessRequests.bodyLength(OpenAiPlugin.SDK, p), "body " + i);
        }
    }

    @Test
    void everyRequestCountsItsOwnBodyWhenTheGeneratorIsReused() throws Exception {
        List<ChatCompletionCreateParams> requests = List.of(params("Ticket 42: the printer jams."),
                params("Ticket 43: naïve café, 😀 \"quoted\" and a\nnew line"),
                params("Ticket 42: the printer jams."),
                params("x"));
        List<Long> expected = new ArrayList<>();
        for (ChatCompletionCreateParams p : requests) {
            expected.add(sdkLength(p));
        }
        assertEquals(4, expected.size());
        // the same request twice, with others of other lengths between: a count left over would show
        assertEquals(expected.get(0), expected.get(2));
        for (int round = 0; round < 3; round++) {
            List<Long> counted = new ArrayList<>();
            for (ChatCompletionCreateParams p : requests) {
                counted.add(StainlessRequests.bodyLength(OpenAiPlugin.SDK, p));
            }
            assertEquals(expected, counted, "round " + round);
        }
    }

    @Test
    void threadsCountingAtOnceEachGetTheirOwnRequestsLength() throws Exception {
        ChatCompletionCreateParams shortOne = params("a");
        ChatCompletionCreateParams longOne = params("a much longer question about the printer on floor 3, ".repeat(40));
        long shortLength = sdkLength(shortOne);
        long longLength = sdkLength(longOne);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                ChatCompletionCreateParams mine = t % 2 == 0 ? shortOne : longOne;
                long expected = t % 2 == 0 ? shortLength : longLength;
                Callable<Boolean> task = () -> {
                    for (int i = 0; i < 2_000; i++) {
                        if (StainlessRequests.bodyLength(OpenAiPlugin.SDK, mine) != expected) {
                            return false;
                        }
                    }
                    return true;
                };
                results.add(pool.submit(task));
            }
            assertEquals(8, results.size());
            for (Future<Boolean> r : results) {
                assertEquals(true, r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Requests of shapes the counting generators have not written before: tools, schemas, parts, extra fields. */
    private static List<ChatCompletionCreateParams> otherShapes() {
        FunctionDefinition lookup = FunctionDefinition.builder().name("lookup_ticket")
                .description("Finds a ticket by its number.")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("id", Map.of("type", "string",
                                "description", "the ticket's number, e.g. T-42"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("id")))
                        .build())
                .build();
        return List.of(
                ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O)
                        .addSystemMessage("You answer with the ticket's status.")
                        .addUserMessage("What about T-42?")
                        .addFunctionTool(lookup)
                        .maxCompletionTokens(300)
                        .temperature(0.25)
                        .build(),
                ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                        .addUserMessageOfArrayOfContentParts(List.of(
                                ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder()
                                        .text("Describe this printer's error light.").build()),
                                ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                                        .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                                                .url("https://example.com/printer.png").build())
                                        .build())))
                        .addAssistantMessage("It blinks amber twice.")
                        .addUserMessage("And what does that mean?")
                        .putAdditionalBodyProperty("x_trace", JsonValue.from(List.of(1, "two", Map.of("three", 3))))
                        .build());
    }

    @Test
    void requestsOfShapesNotWrittenBeforeCountAsTheSdkWritesThem() throws Exception {
        List<ChatCompletionCreateParams> requests = new ArrayList<>(List.of(params("warm-up: a plain request")));
        requests.addAll(otherShapes());
        requests.add(params("a plain request again"));
        List<Long> expected = new ArrayList<>();
        for (ChatCompletionCreateParams p : requests) {
            expected.add(sdkLength(p));
        }
        assertEquals(4, expected.size());
        for (int round = 0; round < 3; round++) { // the first round meets each shape for the first time
            List<Long> counted = new ArrayList<>();
            for (ChatCompletionCreateParams p : requests) {
                counted.add(StainlessRequests.bodyLength(OpenAiPlugin.SDK, p));
            }
            assertEquals(expected, counted, "round " + round);
        }
    }
}
