package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the token usage of one LLM response from its body while the body passes through to the app: the hook hands
 * over each piece the app reads ({@link #onBytes}) and tells when the body ended or was closed ({@link #onEnd}).
 * The body is never held: a JSON body, an NDJSON stream or a JSON array stream is walked token by token (only
 * Jackson's bound on a single string value applies), and a server-sent-events stream event by event, its data
 * walked as it arrives. The framing is told by the first byte that is not white space: {@code {} or {@code [} is
 * JSON, anything else is an event stream; so an error body to a streaming request is read as what it is.
 *
 * <p>When the counts cannot be charged ({@link #problem()} is not null: no usage, fields renamed, a negative or
 * overflowing count, a stream that ended before its final usage), the hook charges an estimate: the output part of
 * it is {@link #estimatedOutputTokens()}, from the text the response carried. That text is kept up to
 * {@value #MAX_TEXT} characters; beyond that it is estimated in slices and only the estimate is kept.
 *
 * <p>Bodies are never logged, and nothing here throws: a body that is not what was expected is a problem to
 * report, not an exception.
 */
public abstract class ResponseUsageReader {
    static final int MAX_TEXT = 64 * 1024;

    private enum Framing { UNKNOWN, JSON, SSE }

    private final String requestModel;
    private Framing framing = Framing.UNKNOWN;
    private JsonWalker walker;
    private SseFramer sse;
    private long bytes;
    private int messages;
    private boolean jsonFailed;
    private boolean jsonCutShort;
    private boolean rootArray;
    private String countProblem;
    private StringBuilder text;
    private long flushedTextTokens;
    private boolean ended;
    private boolean doneSeen;
    private final StringBuilder eventStart = new StringBuilder(8);

    protected String model;
    protected String id;
    protected final List<String> finishReasons = new ArrayList<>(1);

    /** A message of the response named its model and id: later messages' names replace earlier ones. */
    protected final void adoptModelAndId(String messageModel, String messageId) {
        if (messageModel != null) {
            model = messageModel;
        }
        if (messageId != null) {
            id = messageId;
        }
    }

    protected ResponseUsageReader(String requestModel) {
        this.requestModel = requestModel;
    }

    /** A reader for responses of the route's API; {@code requestModel} (may be null) chooses the estimate's encoding. */
    public static ResponseUsageReader of(LlmRoute route, String requestModel) {
        return of(route.api(), requestModel);
    }

    /** A reader for responses of {@code api}; {@code requestModel} (may be null) chooses the estimate's encoding. */
    public static ResponseUsageReader of(WireApi api, String requestModel) {
        return switch (api.format()) {
            case OPENAI -> new OpenAiWireUsage(api, requestModel);
            case ANTHROPIC -> new AnthropicWireUsage(requestModel);
            case GEMINI -> new GeminiWireUsage(api, requestModel);
            case OLLAMA -> new OllamaWireUsage(api, requestModel);
        };
    }

    /** The next piece of the body, exactly as the app reads it. */
    public final void onBytes(byte[] b, int off, int len) {
        if (ended || len <= 0) {
            return;
        }
        bytes += len;
        if (framing == Framing.UNKNOWN) {
            while (len > 0 && isWhiteSpace(b[off])) {
                off++;
                len--;
            }
            if (len == 0) {
                return;
            }
            if (b[off] == '{' || b[off] == '[') {
                framing = Framing.JSON;
                rootArray = b[off] == '[';
                walker = new JsonWalker(messageListener, true);
            } else {
                framing = Framing.SSE;
                sse = new SseFramer(eventListener);
            }
        }
        if (framing == Framing.JSON) {
            walker.feed(b, off, len);
        } else {
            sse.feed(b, off, len);
        }
    }

    /** The body ended, or the app closed it. Further bytes are ignored. */
    public final void onEnd() {
        if (ended) {
            return;
        }
        if (framing == Framing.JSON) {
            boolean failedEarlier = walker.failed();
            boolean open = walker.inValue();
            walker.end();
            jsonCutShort = !failedEarlier && open;
            jsonFailed = !jsonCutShort && walker.failed() && !walker.sawValue();
        } else if (framing == Framing.SSE) {
            sse.end();
            if (walker != null) {
                walker.end();
                walker = null;
            }
        }
        ended = true;
    }

    /** The counts, model, id and finish reasons read so far (counts null where unknown); never null. */
    public final Usage usage() {
        return new Usage(inputTokens(), outputTokens(), cacheReadTokens(), cacheWriteTokens(), reasoningTokens(),
                model, id, finishReasons, UsageSource.PROVIDER);
    }

    /**
     * Why {@link #usage()} cannot be charged as the provider's count, or null when it can. Meaningful once
     * {@link #onEnd()} was called.
     */
    public final String problem() {
        if (bytes == 0 || framing == Framing.UNKNOWN) {
            return "the response body was empty";
        }
        if (jsonFailed) {
            return "the response body is not JSON";
        }
        if (messages == 0) {
            if (framing == Framing.SSE) {
                return "the event stream carried no JSON event";
            }
            return jsonCutShort ? "the response body ended before its JSON did" : "the response body is not JSON";
        }
        if (countProblem != null) {
            return countProblem;
        }
        if (!hasUsage()) {
            return "the response carried no usage";
        }
        if (!complete()) {
            return "the stream ended before its final usage";
        }
        String own = countsProblem();
        return own != null ? own : usage().problem(expectsOutput());
    }

    /**
     * Whether the response carried a usage report (even an unreadable one): for an OpenAI chat stream that did not
     * ask for usage, whether the server sends it unasked.
     */
    public boolean usageReported() {
        return hasUsage();
    }

    /** Whether an event stream's {@code data: [DONE]} event came (the end of an OpenAI stream). */
    public final boolean doneSeen() {
        return doneSeen;
    }

    /** Whether the body was an event stream (rather than one JSON document or a JSON/NDJSON stream). */
    public final boolean eventStream() {
        return framing == Framing.SSE;
    }

    /** The text of the response seen so far (its last part, at most {@value #MAX_TEXT} characters), or empty. */
    public final CharSequence text() {
        return text == null ? "" : text;
    }

    /** The output tokens estimated from the text the response carried. */
    public final long estimatedOutputTokens() {
        return flushedTextTokens + TokenEstimator.estimate(estimateModel(), text);
    }

    // ---- what each wire format supplies

    /** A message (a JSON document, an event's data, an NDJSON line, an array element) starts. */
    protected abstract void messageStart();

    /** A value of the current message (see {@link JsonWalker.Listener#token}). */
    protected abstract void token(String path, JsonToken token, JsonParser parser) throws IOException;

    /** The current message is complete: take what it said. */
    protected abstract void messageEnd();

    protected abstract Long inputTokens();

    protected abstract Long outputTokens();

    protected abstract Long cacheReadTokens();

    protected abstract Long cacheWriteTokens();

    protected abstract Long reasoningTokens();

    /** Whether any usage was read. */
    protected abstract boolean hasUsage();

    /** Whether the usage read is the response's final one (not an early, partial count of a stream). */
    protected abstract boolean complete();

    protected abstract boolean expectsOutput();

    /**
     * Whether the response's last message came (Ollama's {@code "done": true} object): its usage is final even
     * though the body has not ended yet, and a client may hand the app the whole answer at that message, before it
     * reads the body's end. False where a format has no such message.
     */
    public boolean lastMessageSeen() {
        return false;
    }

    /** A problem of the counts this format alone can see (e.g. parts that overflow when added), or null. */
    protected String countsProblem() {
        return null;
    }

    // ---- for the wire formats

    /** A token count, or null; a value that is not a whole number in range is remembered as the problem. */
    protected final Long count(JsonToken t, JsonParser p) throws IOException {
        switch (t) {
            case VALUE_NUMBER_INT:
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    countProblem = "a count too large for a token count (" + p.getText().length() + " digits)";
                    return null;
                }
                return p.getLongValue();
            case VALUE_NULL:
                return null;
            case VALUE_NUMBER_FLOAT:
                countProblem = "a count that is not a whole number";
                return null;
            default:
                countProblem = "a count that is not a number";
                return null;
        }
    }

    /** The text of a string value, or null for anything else. */
    protected static String string(JsonToken t, JsonParser p) throws IOException {
        return t == JsonToken.VALUE_STRING ? p.getText() : null;
    }

    protected final void appendText(String more) {
        if (more == null || more.isEmpty()) {
            return;
        }
        if (text == null) {
            text = new StringBuilder(Math.min(MAX_TEXT, 256));
        }
        if (text.length() + more.length() > MAX_TEXT) {
            flushedTextTokens += TokenEstimator.estimate(estimateModel(), text);
            text.setLength(0);
            int start = 0;
            while (more.length() - start > MAX_TEXT) {
                flushedTextTokens += TokenEstimator.estimate(estimateModel(), more.substring(start, start + MAX_TEXT));
                start += MAX_TEXT;
            }
            text.append(more, start, more.length());
        } else {
            text.append(more);
        }
    }

    protected final boolean streamedEvents() {
        return framing == Framing.SSE;
    }

    /** Whether the body is a stream of messages: an event stream, a JSON array stream or several JSON documents. */
    protected final boolean streamed() {
        return framing == Framing.SSE || rootArray || messages > 1;
    }

    /** Number of messages read whole so far. */
    protected final int messages() {
        return messages;
    }

    private String estimateModel() {
        return model != null ? model : requestModel;
    }

    private static boolean isWhiteSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private final JsonWalker.Listener messageListener = new JsonWalker.Listener() {
        @Override
        public void messageStart() {
            ResponseUsageReader.this.messageStart();
        }

        @Override
        public void token(String path, JsonToken token, JsonParser parser) throws IOException {
            ResponseUsageReader.this.token(path, token, parser);
        }

        @Override
        public void messageEnd() {
            messages++;
            ResponseUsageReader.this.messageEnd();
        }
    };

    private final SseFramer.Listener eventListener = new SseFramer.Listener() {
        private static final byte[] NEW_LINE = {'\n'};

        @Override
        public void data(byte[] b, int off, int len, boolean newLine) {
            for (int i = off; i < off + len && eventStart.length() < 8; i++) {
                eventStart.append((char) (b[i] & 0xff));
            }
            if (walker == null) {
                walker = new JsonWalker(messageListener, false);
            }
            if (newLine) {
                walker.feed(NEW_LINE, 0, 1);
            }
            walker.feed(b, off, len);
        }

        @Override
        public void eventEnd(String eventName) {
            doneSeen |= eventStart.toString().trim().equals("[DONE]");
            eventStart.setLength(0);
            if (walker != null) {
                walker.end();
                walker = null;
            }
        }
    };
}
