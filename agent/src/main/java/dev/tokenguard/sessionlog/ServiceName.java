package dev.tokenguard.sessionlog;

import java.util.Map;

/**
 * The service whose session logs these are: the OpenTelemetry service name, so that logs and traces name a service
 * alike. Several services may share one session-log directory; a restart replays only its own service's files.
 */
public final class ServiceName {
    /** The service of a process that names none. */
    public static final String DEFAULT = "default";

    private ServiceName() {
    }

    /**
     * {@code otel.service.name} (system property), else {@code OTEL_SERVICE_NAME}, else {@code service.name} in
     * {@code otel.resource.attributes} / {@code OTEL_RESOURCE_ATTRIBUTES}, else {@value #DEFAULT} — the precedence
     * of the OpenTelemetry SDK's autoconfiguration.
     */
    public static String resolve(Map<String, String> systemProperties, Map<String, String> environment) {
        String name = nonBlank(systemProperties.get("otel.service.name"));
        if (name == null) {
            name = nonBlank(environment.get("OTEL_SERVICE_NAME"));
        }
        if (name == null) {
            name = fromResourceAttributes(systemProperties.get("otel.resource.attributes"));
        }
        if (name == null) {
            name = fromResourceAttributes(environment.get("OTEL_RESOURCE_ATTRIBUTES"));
        }
        return name == null ? DEFAULT : name;
    }

    private static String fromResourceAttributes(String attributes) {
        if (attributes == null) {
            return null;
        }
        for (String pair : attributes.split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equals("service.name")) {
                return nonBlank(java.net.URLDecoder.decode(pair.substring(eq + 1).trim(),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return null;
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
