package dev.tokenguard.instrumentation.stainless;

/** What a governed call needs to hear from a wrapped raw response. */
public interface ResponseListener {

    /** The app parsed the response; returns what the app gets instead (e.g. an observed stream). */
    Object parsed(Object value);

    /** Parsing failed with {@code error}, which the app will see. */
    void parseFailed(Throwable error);

    /** The app closed the raw response without ever parsing it. */
    void closedUnparsed();
}
