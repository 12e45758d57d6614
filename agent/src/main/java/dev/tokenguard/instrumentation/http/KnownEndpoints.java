package dev.tokenguard.instrumentation.http;

import dev.tokenguard.config.HttpEndpoint;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Decides whether a raw HTTP request goes to an LLM API that TokenGuard governs: a POST to one of the providers'
 * own hosts or under a base URL of {@code tokenguard.http.endpoints}, whose path names a generating or embedding
 * API. Token counting ({@code /v1/messages/count_tokens}, {@code :countTokens}), model listing, batches, files and
 * every other path are left alone.
 *
 * <p>The wire format follows the path, because each API's path has a shape of its own: a gateway that serves both
 * {@code /v1/chat/completions} and {@code /v1/messages} is read correctly either way. A configured
 * {@code =provider} names the provider in records and spans; without it, the provider is named after the format
 * ({@code openai} for OpenAI-compatible servers). Configured endpoints are consulted before the built-in hosts.
 */
public final class KnownEndpoints {
    private final List<HttpEndpoint> configured;

    public KnownEndpoints(List<HttpEndpoint> configured) {
        this.configured = List.copyOf(configured);
    }

    /** The route of a request, or null when TokenGuard leaves it alone. */
    public LlmRoute match(String method, String url) {
        if (url == null) {
            return null;
        }
        try {
            return match(method, URI.create(url));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The route of a request, or null when TokenGuard leaves it alone. */
    public LlmRoute match(String method, URI uri) {
        if (method == null || !method.equalsIgnoreCase("POST") || uri == null || !uri.isAbsolute()
                || uri.getHost() == null) {
            return null;
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return null;
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        int port = effectivePort(scheme, uri.getPort());
        String path = uri.getPath() == null ? "" : uri.getPath();
        for (HttpEndpoint e : configured) {
            if (underBase(e.baseUri(), scheme, host, port, path)) {
                PathApi p = PathApi.of(path);
                if (p == null) {
                    return null;
                }
                String provider = e.provider() != null ? e.provider() : defaultProvider(p.api.format());
                return new LlmRoute(provider, p.api, p.model, p.streaming, asksForStreamUsage(provider), host, port);
            }
        }
        String provider = providerOfHost(host, path);
        if (provider == null) {
            return null;
        }
        PathApi p = PathApi.of(path);
        if (p == null) {
            return null;
        }
        return new LlmRoute(provider, p.api, p.model, p.streaming, asksForStreamUsage(provider), host, port);
    }

    /**
     * The route of a request an SDK makes to its provider, whose plugin knows the provider and the server: the API,
     * model and streaming its path names ({@code models/gemini-2.5-flash:streamGenerateContent?alt=sse}, with or
     * without query), or null when the path names no API that is governed (token counting, files, batches...).
     */
    public static LlmRoute sdkRoute(String provider, String path, String host, int port) {
        if (path == null) {
            return null;
        }
        int query = path.indexOf('?');
        PathApi p = PathApi.of(query >= 0 ? path.substring(0, query) : path);
        return p == null ? null : new LlmRoute(provider, p.api, p.model, p.streaming, false, host, port);
    }

    /** The provider whose own API host this is, or null. */
    static String providerOfHost(String host, String path) {
        switch (host) {
            case "api.openai.com":
                return "openai";
            case "api.anthropic.com":
                return "anthropic";
            case "generativelanguage.googleapis.com":
                return "gcp.gemini";
            case "api.mistral.ai":
                return "mistral_ai";
            case "api.groq.com":
                return "groq";
            case "api.deepseek.com":
                return "deepseek";
            case "openrouter.ai":
                return "openrouter";
            case "api.together.xyz":
            case "api.together.ai":
                return "together";
            default:
                break;
        }
        if (host.endsWith(".openai.azure.com")
                || (host.endsWith(".cognitiveservices.azure.com") && path.startsWith("/openai/"))) {
            return "azure.ai.openai";
        }
        return null;
    }

    /**
     * Whether the agent may add {@code stream_options.include_usage} to an OpenAI chat stream of this provider:
     * yes for OpenAI, Azure OpenAI, DeepSeek and self-hosted OpenAI-compatible servers (vLLM, LiteLLM, Ollama's
     * {@code /v1}, LM Studio accept it); no for providers that report a stream's usage unasked (Mistral, Groq,
     * OpenRouter, Together) or whose acceptance of the field is not documented (Gemini's OpenAI-compatible API,
     * Anthropic's), where an unknown field could make the app's request fail.
     */
    static boolean asksForStreamUsage(String provider) {
        return switch (provider) {
            case "mistral_ai", "groq", "openrouter", "together", "gcp.gemini", "anthropic" -> false;
            default -> true;
        };
    }

    static String defaultProvider(WireFormat format) {
        return switch (format) {
            case OPENAI -> "openai";
            case ANTHROPIC -> "anthropic";
            case GEMINI -> "gcp.gemini";
            case OLLAMA -> "ollama";
        };
    }

    private static boolean underBase(URI base, String scheme, String host, int port, String path) {
        String baseScheme = base.getScheme().toLowerCase(Locale.ROOT);
        if (!baseScheme.equals(scheme) || !base.getHost().equalsIgnoreCase(host)
                || effectivePort(baseScheme, base.getPort()) != port) {
            return false;
        }
        String prefix = base.getPath() == null ? "" : base.getPath();
        while (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        return prefix.isEmpty() || path.equals(prefix) || path.startsWith(prefix + "/");
    }

    private static int effectivePort(String scheme, int port) {
        if (port >= 0) {
            return port;
        }
        return scheme.equals("https") ? 443 : 80;
    }

    /** The API a path names, with the model and the streaming the path itself carries. */
    private record PathApi(WireApi api, String model, boolean streaming) {

        static PathApi of(String rawPath) {
            String path = rawPath;
            while (path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            String last = path.substring(path.lastIndexOf('/') + 1);
            int colon = last.indexOf(':');
            if (colon >= 0) {
                String model = last.substring(0, colon);
                String method = last.substring(colon + 1);
                if (model.isEmpty()) {
                    return null;
                }
                return switch (method) {
                    case "generateContent" -> new PathApi(WireApi.GEMINI_GENERATE, model, false);
                    case "streamGenerateContent" -> new PathApi(WireApi.GEMINI_GENERATE, model, true);
                    case "embedContent", "batchEmbedContents" -> new PathApi(WireApi.GEMINI_EMBED, model, false);
                    default -> null;
                };
            }
            if (path.endsWith("/api/chat")) {
                return new PathApi(WireApi.OLLAMA_CHAT, null, false);
            }
            if (path.endsWith("/api/generate")) {
                return new PathApi(WireApi.OLLAMA_GENERATE, null, false);
            }
            if (path.endsWith("/api/embed") || path.endsWith("/api/embeddings")) {
                return new PathApi(WireApi.OLLAMA_EMBED, null, false);
            }
            String deployment = azureDeployment(path);
            if (path.endsWith("/chat/completions")) {
                return new PathApi(WireApi.OPENAI_CHAT, deployment, false);
            }
            if (path.endsWith("/completions")) {
                return new PathApi(WireApi.OPENAI_COMPLETIONS, deployment, false);
            }
            if (path.endsWith("/responses")) {
                return new PathApi(WireApi.OPENAI_RESPONSES, deployment, false);
            }
            if (path.endsWith("/embeddings")) {
                return new PathApi(WireApi.OPENAI_EMBEDDINGS, deployment, false);
            }
            if (path.endsWith("/messages")) {
                return new PathApi(WireApi.ANTHROPIC_MESSAGES, null, false);
            }
            return null;
        }

        /** The deployment of an Azure OpenAI path ({@code /openai/deployments/<name>/chat/completions}), or null. */
        private static String azureDeployment(String path) {
            int i = path.indexOf("/openai/deployments/");
            if (i < 0) {
                return null;
            }
            int start = i + "/openai/deployments/".length();
            int end = path.indexOf('/', start);
            return end > start ? path.substring(start, end) : null;
        }
    }
}
