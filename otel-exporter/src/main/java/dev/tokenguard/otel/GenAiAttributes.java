package dev.tokenguard.otel;

/**
 * Attribute and instrument names of the OpenTelemetry GenAI semantic conventions, plus
 * TokenGuard's own budget attributes, as the exported spans and metrics carry them.
 */
public final class GenAiAttributes {
    public static final String OPERATION_NAME = "gen_ai.operation.name";
    public static final String PROVIDER_NAME = "gen_ai.provider.name";
    public static final String REQUEST_MODEL = "gen_ai.request.model";
    public static final String RESPONSE_MODEL = "gen_ai.response.model";
    public static final String RESPONSE_ID = "gen_ai.response.id";
    public static final String USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
    public static final String USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
    public static final String USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
    public static final String USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens";
    public static final String USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens";
    public static final String REQUEST_STREAM = "gen_ai.request.stream";
    public static final String RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
    public static final String TOKEN_TYPE = "gen_ai.token.type";
    public static final String SERVER_ADDRESS = "server.address";
    public static final String SERVER_PORT = "server.port";
    public static final String ERROR_TYPE = "error.type";

    public static final String BUDGET_NAME = "tokenguard.budget.name";
    public static final String BUDGET_SCOPE = "tokenguard.budget.scope";
    public static final String BUDGET_USED_TOKENS = "tokenguard.budget.used_tokens";
    public static final String BUDGET_LIMIT_TOKENS = "tokenguard.budget.limit_tokens";
    public static final String BUDGET_THRESHOLD = "tokenguard.budget.threshold";
    public static final String BUDGET_WARNING_EVENT = "tokenguard.budget.warning";

    /** The application frame that made the call: {@code com.acme.tickets.Summarizer.summarize}. */
    public static final String CODE_FUNCTION_NAME = "code.function.name";
    /** Its source line. */
    public static final String CODE_LINE_NUMBER = "code.line.number";

    /** {@code thread}, {@code global} or {@code mdc}: the kind of a budget's scope instance. */
    public static final String BUDGET_SCOPE_KIND = "tokenguard.budget.scope.kind";

    public static final String METRIC_BUDGET_UTILIZATION = "tokenguard.budget.utilization";
    public static final String METRIC_BUDGET_WARNINGS = "tokenguard.budget.warnings";
    public static final String METRIC_BUDGET_REFUSALS = "tokenguard.budget.refusals";

    public static final String METRIC_TOKEN_USAGE = "gen_ai.client.token.usage";
    public static final String METRIC_OPERATION_DURATION = "gen_ai.client.operation.duration";

    private GenAiAttributes() {
    }
}
