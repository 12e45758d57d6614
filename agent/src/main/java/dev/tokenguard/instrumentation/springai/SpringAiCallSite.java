package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;

import java.lang.reflect.Field;
import java.net.URI;

/**
 * Starts governing one request made through a Spring AI 1.x API object ({@code OpenAiApi},
 * {@code AnthropicApi}): its provider, operation, model and server come from the API object and
 * the request record, before anything is sent.
 */
final class SpringAiCallSite implements CallSite {
    /** The field of {@code OpenAiApi} that holds its base URL; {@code AnthropicApi} keeps none. */
    static final String BASE_URL_FIELD = "baseUrl";

    /** The field of {@code OpenAiApi} that holds the path of its chat completions (under the base URL). */
    static final String COMPLETIONS_PATH_FIELD = "completionsPath";

    private static final ClassValue<Field> BASE_URL = field(BASE_URL_FIELD);
    private static final ClassValue<Field> COMPLETIONS_PATH = field(COMPLETIONS_PATH_FIELD);

    private static ClassValue<Field> field(String name) {
        return new ClassValue<>() {
            @Override
            protected Field computeValue(Class<?> type) {
                try {
                    Field f = type.getDeclaredField(name);
                    return f.trySetAccessible() ? f : null;
                } catch (NoSuchFieldException | SecurityException e) {
                    return null;
                }
            }
        };
    }

    private final String plugin;
    private final String provider;
    private final SpringAiApi api;
    private final boolean streaming;
    private final Governor governor;

    /**
     * @param plugin    the plugin's name, for failure reports
     * @param provider  the provider the API object talks to by default ({@code openai}, {@code anthropic})
     * @param api       what to read of requests and responses
     * @param streaming whether the method returns a stream ({@code chatCompletionStream})
     */
    SpringAiCallSite(String plugin, String provider, SpringAiApi api, boolean streaming, Governor governor) {
        this.plugin = plugin;
        this.provider = provider;
        this.api = api;
        this.streaming = streaming;
        this.governor = governor;
    }

    @Override
    public Object enter(Object apiObject, Object request) {
        return begin(apiObject, request, false);
    }

    /**
     * Starts a call for {@code request} on {@code apiObject}: the {@link SpringAiCall}, the
     * {@code BudgetExhaustedException} refusing it, or null when an internal failure leaves it ungoverned.
     *
     * @param asksForUsage whether {@code request} already carries the agent's request for stream usage
     *                     (a later subscription to a stream sends the request of the first)
     */
    Object begin(Object apiObject, Object request, boolean asksForUsage) {
        URI base = baseUrl(apiObject);
        String host = base == null ? null : base.getHost();
        Integer port = null;
        if (host != null) {
            port = base.getPort() >= 0 ? base.getPort() : "http".equalsIgnoreCase(base.getScheme()) ? 80 : 443;
        }
        String name = host != null && host.endsWith(".openai.azure.com") ? "azure.ai.openai" : provider;
        Object started = governor.begin(new CallRequest(name, api.operation(), SpringAiApi.model(request), streaming,
                host, port));
        return started instanceof LlmCall call
                ? new SpringAiCall(this, apiObject, call, request, asksForUsage, endpoint(apiObject, base)) : started;
    }

    /**
     * The endpoint of an OpenAI chat stream as {@link UnaskedStreamUsage} names it: the API object's base URL and
     * completions path without {@code /chat/completions} ({@code http://host:port/v1}, the base URL an OpenAI SDK
     * client is given); null when not known (treated as a provider's own host).
     */
    private String endpoint(Object apiObject, URI base) {
        if (base == null || api != SpringAiApi.OPENAI_CHAT || !streaming) {
            return null;
        }
        try {
            Field f = COMPLETIONS_PATH.get(apiObject.getClass());
            Object value = f == null ? null : f.get(apiObject);
            String path = value instanceof String s ? s : "/v1/chat/completions";
            int chat = path.lastIndexOf("/chat/completions");
            String prefix = chat >= 0 ? path.substring(0, chat) : path;
            String baseText = base.toString();
            while (baseText.endsWith("/")) {
                baseText = baseText.substring(0, baseText.length() - 1);
            }
            return UnaskedStreamUsage.endpoint(URI.create(baseText + (prefix.startsWith("/") || prefix.isEmpty()
                    ? prefix : "/" + prefix)));
        } catch (IllegalAccessException | RuntimeException e) {
            AgentLog.failure(plugin + ".endpoint", e);
            return null;
        }
    }

    String plugin() {
        return plugin;
    }

    SpringAiApi api() {
        return api;
    }

    boolean streaming() {
        return streaming;
    }

    private URI baseUrl(Object apiObject) {
        try {
            Field f = apiObject == null ? null : BASE_URL.get(apiObject.getClass());
            Object value = f == null ? null : f.get(apiObject);
            return value instanceof String s && !s.isEmpty() ? URI.create(s) : null;
        } catch (IllegalAccessException | IllegalArgumentException e) {
            AgentLog.failure(plugin + ".base-url", e);
            return null;
        }
    }
}
