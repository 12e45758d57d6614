package dev.tokenguard.pricing;

/**
 * A price file could not be used. The message is one line, meant to be shown as is: it names the file (as the
 * value of {@code tokenguard.pricing.file}), where in it the problem is (line, column and JSON path, when known),
 * what was found and what was expected.
 */
public final class PricingException extends Exception {
    private static final long serialVersionUID = 1L;

    PricingException(String message) {
        super(oneLine(message));
    }

    PricingException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** One line, with anything that looks like a credential masked (the file may not be a price file at all). */
    private static String oneLine(String s) {
        return dev.tokenguard.config.Redaction.scrub(s).replaceAll("[\\r\\n]+\\s*", " ");
    }
}
