package dev.tokenguard.agent;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentRuntimeOtelTest {

    @Test
    void withoutAnyEndpointNothingCanBeExported() {
        assertFalse(AgentRuntime.mayExport(Map.of(), Map.of()));
        assertFalse(AgentRuntime.mayExport(Map.of("otel.service.name", "svc"), Map.of("OTEL_SERVICE_NAME", "svc",
                "PATH", "/bin")));
        assertFalse(AgentRuntime.mayExport(Map.of("otel.exporter.otlp.endpoint", "  "),
                Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "")));
    }

    @Test
    void anyEndpointPropertyOrVariableMayExport() {
        assertTrue(AgentRuntime.mayExport(Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318"), Map.of()));
        assertTrue(AgentRuntime.mayExport(Map.of("otel.exporter.otlp.traces.endpoint", "http://127.0.0.1:4318"),
                Map.of()));
        assertTrue(AgentRuntime.mayExport(Map.of(), Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://127.0.0.1:4318")));
        assertTrue(AgentRuntime.mayExport(Map.of(), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")));
    }
}
