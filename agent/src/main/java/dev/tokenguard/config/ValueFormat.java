package dev.tokenguard.config;

import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.sessionlog.LogLayout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * The parser of each form an option's value may have, one object per form. A plain class rather than method
 * references: each method reference would spin a class of its own when the options are first read, at the JVM's
 * start-up.
 *
 * @param <T> the parsed value type
 */
final class ValueFormat<T> implements Function<String, T> {
    static final ValueFormat<Boolean> BOOL = new ValueFormat<>(0);
    static final ValueFormat<EnforcementMode> MODE = new ValueFormat<>(1);
    static final ValueFormat<Long> TOKENS = new ValueFormat<>(2);
    static final ValueFormat<Double> COST = new ValueFormat<>(3);
    static final ValueFormat<ScopeSpec> SCOPE = new ValueFormat<>(4);
    static final ValueFormat<Duration> WINDOW = new ValueFormat<>(5);
    static final ValueFormat<double[]> WARN_AT = new ValueFormat<>(6);
    static final ValueFormat<Path> PATH = new ValueFormat<>(7);
    static final ValueFormat<Path> READABLE_FILE = new ValueFormat<>(8);
    static final ValueFormat<List<HttpEndpoint>> ENDPOINTS = new ValueFormat<>(9);
    static final ValueFormat<Integer> SCOPE_COUNT = new ValueFormat<>(10);
    static final ValueFormat<Path> CONFIG_FILE = new ValueFormat<>(11);
    static final ValueFormat<Long> RESERVE_OUTPUT = new ValueFormat<>(12);
    static final ValueFormat<Duration> SPAN = new ValueFormat<>(13);
    static final ValueFormat<Duration> POSITIVE_SPAN = new ValueFormat<>(14);
    static final ValueFormat<String> STORE_NAMESPACE = new ValueFormat<>(15);
    static final ValueFormat<Path> CA_FILE = new ValueFormat<>(16);
    static final ValueFormat<Duration> AGE = new ValueFormat<>(17);
    static final ValueFormat<Long> BYTE_SIZE = new ValueFormat<>(18);
    static final ValueFormat<StoreAddress> STORE_ADDRESS = new ValueFormat<>(19);
    static final ValueFormat<StoreFailureMode> STORE_FAILURE_MODE = new ValueFormat<>(20);
    static final ValueFormat<LogLayout> LOG_LAYOUT = new ValueFormat<>(21);

    private final int form;

    private ValueFormat(int form) {
        this.form = form;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T apply(String text) {
        Object value = switch (form) {
            case 0 -> ValueFormats.bool(text);
            case 1 -> ValueFormats.mode(text);
            case 2 -> ValueFormats.tokens(text);
            case 3 -> ValueFormats.cost(text);
            case 4 -> ValueFormats.scope(text);
            case 5 -> ValueFormats.window(text);
            case 6 -> ValueFormats.warnAt(text);
            case 7 -> ValueFormats.path(text);
            case 8 -> ValueFormats.readableFile(text);
            case 9 -> ValueFormats.endpoints(text);
            case 10 -> ValueFormats.scopeCount(text);
            case 11 -> ValueFormats.configFile(text);
            case 12 -> ValueFormats.reserveOutput(text);
            case 13 -> ValueFormats.span(text);
            case 14 -> ValueFormats.positiveSpan(text);
            case 15 -> ValueFormats.storeNamespace(text);
            case 16 -> ValueFormats.caFile(text);
            case 17 -> ValueFormats.age(text);
            case 18 -> ValueFormats.byteSize(text);
            case 19 -> StoreAddress.parse(text);
            case 20 -> StoreFailureMode.parse(text);
            case 21 -> LogLayout.parse(text);
            default -> throw new IllegalStateException("no value form " + form);
        };
        return (T) value;
    }
}
