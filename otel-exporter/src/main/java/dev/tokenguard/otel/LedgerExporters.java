package dev.tokenguard.otel;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;

/**
 * The SDK's exporters and span pipeline, as they are, with every span ended and every span and metric
 * point sent counted in an {@link ExportLedger}.
 */
final class LedgerExporters {
    private LedgerExporters() {
    }

    /** Counts the sampled spans that end: the ones an exporter should deliver. */
    static final class EndedSpans implements SpanProcessor {
        private final ExportLedger ledger;

        EndedSpans(ExportLedger ledger) {
            this.ledger = ledger;
        }

        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {
        }

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {
            if (span.getSpanContext().isSampled()) {
                ledger.spanEnded();
            }
        }

        @Override
        public boolean isEndRequired() {
            return true;
        }
    }

    static final class Spans implements SpanExporter {
        private final SpanExporter delegate;
        private final ExportLedger ledger;

        Spans(SpanExporter delegate, ExportLedger ledger) {
            this.delegate = delegate;
            this.ledger = ledger;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            int count = spans.size();
            CompletableResultCode result = delegate.export(spans);
            result.whenComplete(() -> {
                if (result.isSuccess()) {
                    ledger.spansDelivered(count);
                }
            });
            return result;
        }

        @Override
        public CompletableResultCode flush() {
            return delegate.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return delegate.shutdown();
        }

        @Override
        public String toString() {
            return delegate.toString();
        }
    }

    static final class Metrics implements MetricExporter {
        private final MetricExporter delegate;
        private final ExportLedger ledger;

        Metrics(MetricExporter delegate, ExportLedger ledger) {
            this.delegate = delegate;
            this.ledger = ledger;
        }

        @Override
        public CompletableResultCode export(Collection<MetricData> metrics) {
            int points = 0;
            for (MetricData metric : metrics) {
                points += metric.getData().getPoints().size();
            }
            int count = points;
            ledger.pointsSent(count);
            CompletableResultCode result = delegate.export(metrics);
            result.whenComplete(() -> ledger.pointsDone(count, result.isSuccess()));
            return result;
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
            return delegate.getAggregationTemporality(instrumentType);
        }

        @Override
        public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
            return delegate.getDefaultAggregation(instrumentType);
        }

        @Override
        public MemoryMode getMemoryMode() {
            return delegate.getMemoryMode();
        }

        @Override
        public CompletableResultCode flush() {
            return delegate.flush();
        }

        @Override
        public CompletableResultCode shutdown() {
            return delegate.shutdown();
        }

        @Override
        public String toString() {
            return delegate.toString();
        }
    }
}
