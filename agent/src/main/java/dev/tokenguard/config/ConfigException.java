package dev.tokenguard.config;

/**
 * The configuration could not be read. The message is one line, meant to be printed as is: it names what was
 * wrong, the value (never the value of a secret-looking key), where it came from and what would be right, and it
 * ends by saying that TokenGuard is disabled. Whatever slipped through looking like a credential (a parser quoting
 * a file, say) is masked here, last.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What every message ends with: the agent stays out of the way when its configuration is bad. */
    static final String CONSEQUENCE = "TokenGuard is disabled, the application runs uninstrumented";

    private final String key;

    ConfigException(String key, String problem) {
        super(oneLine(Redaction.scrub("TokenGuard: " + problem + "; " + CONSEQUENCE)));
        this.key = key;
    }

    /** The configuration key the problem is about, or {@code null} when it is not about one key. */
    public String key() {
        return key;
    }

    private static String oneLine(String s) {
        return s.replaceAll("[\\r\\n]+\\s*", " ");
    }
}
