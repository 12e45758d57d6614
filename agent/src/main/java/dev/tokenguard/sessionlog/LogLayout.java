package dev.tokenguard.sessionlog;

import java.util.Locale;

/** How session-log lines are grouped into files ({@code tokenguard.session-log.layout}). */
public enum LogLayout {
    /** One file per session, named after the session id. */
    SESSION,
    /**
     * One file per UTC day and process ({@link DailyFileName}); every line still names its session. For services
     * with many short sessions, where one file each would mean many small files.
     */
    DAILY;

    /** {@code session} or {@code daily}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException when the text is neither {@code session} nor {@code daily}
     */
    public static LogLayout parse(String text) {
        String t = text == null ? "" : text.trim();
        for (LogLayout layout : values()) {
            if (layout.wireName().equals(t)) {
                return layout;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a session-log layout");
    }
}
