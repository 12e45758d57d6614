package dev.tokenguard.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code dev.tokenguard.LlmCall}: one governed LLM request, from its admission to its end (for a
 * stream: the stream's end). Numbers that are not known are -1 (tokens) or NaN (cost).
 */
@Name("dev.tokenguard.LlmCall")
@Label("LLM Call")
@Category({"TokenGuard", "LLM Calls"})
@Description("An LLM request governed by TokenGuard: provider, model, tokens, cost and the budget scope it was"
        + " charged to")
@StackTrace(false)
final class LlmCallEvent extends jdk.jfr.Event {
    @Label("Provider")
    @Description("GenAI provider name, e.g. openai")
    String provider;

    @Label("Operation")
    @Description("GenAI operation name, e.g. chat")
    String operation;

    @Label("Request Model")
    String requestModel;

    @Label("Response Model")
    String responseModel;

    @Label("Input Tokens")
    @Description("Input tokens including cached ones; -1 when unknown")
    long inputTokens;

    @Label("Output Tokens")
    @Description("Output tokens including reasoning; -1 when unknown")
    long outputTokens;

    @Label("Cost (USD)")
    @Description("Estimated cost from the price table; NaN when the model is not priced")
    double costUsd;

    @Label("Scope")
    @Description("The default budget's scope instance the call was charged to, e.g. thread:worker-3#41")
    String scope;

    @Label("Usage Source")
    @Description("provider: the provider reported the tokens; estimated: counted locally")
    String usageSource;

    @Label("Streaming")
    boolean streaming;

    @Label("Status")
    @Description("ok or error")
    String status;

    @Label("Error Type")
    String errorType;

    @Label("Call Site")
    @Description("The application frame that made the call, class.method:line")
    String callSite;
}
