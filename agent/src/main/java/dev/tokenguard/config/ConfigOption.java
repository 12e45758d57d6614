package dev.tokenguard.config;

import java.util.Objects;
import java.util.function.Function;

/**
 * One configuration option: its key, the form its value must have, its default and what it means. Declared only
 * in {@link ConfigOptions}.
 *
 * @param <T> the parsed value type
 */
public final class ConfigOption<T> {
    private final String key;
    private final String expectedForm;
    private final String defaultText;
    private final String description;
    private final Function<String, T> parser;

    ConfigOption(String key, String expectedForm, String defaultText, String description, Function<String, T> parser) {
        this.key = Objects.requireNonNull(key);
        this.expectedForm = Objects.requireNonNull(expectedForm);
        this.defaultText = defaultText;
        this.description = Objects.requireNonNull(description);
        this.parser = Objects.requireNonNull(parser);
    }

    /** The full key, e.g. {@code tokenguard.budget.max-tokens}; a template such as {@code tokenguard.budgets.<name>.<key>} for a family of keys. */
    public String key() {
        return key;
    }

    /** The form a value must have, as told to the user in messages, e.g. "true or false". */
    public String expectedForm() {
        return expectedForm.replace("`", "");
    }

    /** The form a value must have, with Markdown code spans, for the README table. */
    String expectedFormMarkdown() {
        return expectedForm;
    }

    /** The default as it would be written in a source, or {@code null} when there is none (the option is unset). */
    public String defaultText() {
        return defaultText;
    }

    /** What the option means. */
    public String description() {
        return description;
    }

    /** Whether {@link #key()} stands for a family of keys rather than being one. */
    public boolean isTemplate() {
        return key.indexOf('<') >= 0;
    }

    /** The environment variable this option is read from, e.g. {@code TOKENGUARD_BUDGET_MAX_TOKENS}. */
    public String environmentVariable() {
        return ConfigLoader.environmentName(key);
    }

    /**
     * Parses a value of this option.
     *
     * @param text the trimmed, non-blank value
     * @return the value; {@code null} for {@code none} where the option allows it
     * @throws IllegalArgumentException when the text does not have the {@linkplain #expectedForm() expected form};
     *                                  its message is the specific reason, possibly empty
     */
    public T parse(String text) {
        return parser.apply(Objects.requireNonNull(text).trim());
    }

    /** The parsed default, or {@code null} when the option has none. */
    public T defaultValue() {
        return defaultText == null ? null : parse(defaultText);
    }

    @Override
    public String toString() {
        return key;
    }
}
