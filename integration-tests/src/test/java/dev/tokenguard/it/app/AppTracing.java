package dev.tokenguard.it.app;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;

/** The app's own use of the OpenTelemetry API: its work runs inside a span of its own. */
final class AppTracing {

    interface Work {
        void run() throws Exception;
    }

    private AppTracing() {
    }

    static void inAppSpan(Work work) throws Exception {
        // an app exports its spans; this one only needs them recorded (a provider without a processor is a no-op)
        SpanProcessor recording = new SpanProcessor() {
            @Override
            public void onStart(Context parent, ReadWriteSpan span) {
            }

            @Override
            public boolean isStartRequired() {
                return false;
            }

            @Override
            public void onEnd(ReadableSpan span) {
            }

            @Override
            public boolean isEndRequired() {
                return true;
            }
        };
        try (OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(recording).build()).build()) {
            Span span = sdk.getTracer("scenario-app").spanBuilder("handle tickets").startSpan();
            try (Scope scope = span.makeCurrent()) {
                System.out.println("APP_SPAN " + span.getSpanContext().getTraceId() + " "
                        + span.getSpanContext().getSpanId());
                work.run();
            } finally {
                span.end();
            }
        }
    }
}
