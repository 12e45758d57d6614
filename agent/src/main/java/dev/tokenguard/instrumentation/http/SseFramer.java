package dev.tokenguard.instrumentation.http;

import java.nio.charset.StandardCharsets;

/**
 * Splits a server-sent-events stream fed in pieces of any size into events, per the HTML living standard's
 * parsing rules: lines end with CRLF, LF or CR (a CRLF split between two pieces is one line end); a line
 * {@code field: value} (one space after the colon dropped); a line starting with a colon is a comment; a blank
 * line ends an event. Only the {@code event} and {@code data} fields matter here. Data bytes are handed on as they
 * arrive, so an event of any size is never held; the event name is kept up to 128 bytes.
 */
final class SseFramer {

    interface Listener {
        /** Bytes of the current event's data; {@code newLine} when they begin a further data line. */
        void data(byte[] b, int off, int len, boolean newLine);

        /** A blank line ended an event that had data, named by its {@code event} field (or null). */
        void eventEnd(String eventName);
    }

    private enum Mode { FIELD, DATA, EVENT, IGNORE }

    private static final int MAX_FIELD = 8;
    private static final int MAX_EVENT_NAME = 128;
    private static final byte[] NONE = new byte[0];

    private final Listener listener;
    private Mode mode = Mode.FIELD;
    private final byte[] field = new byte[MAX_FIELD];
    private int fieldLen;
    private boolean fieldTooLong;
    private boolean skipSpace;
    private boolean skipLf;
    private final byte[] eventName = new byte[MAX_EVENT_NAME];
    private int eventNameLen;
    private int dataLines;

    SseFramer(Listener listener) {
        this.listener = listener;
    }

    void feed(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            byte c = b[i];
            if (skipLf) {
                skipLf = false;
                if (c == '\n') {
                    i++;
                    continue;
                }
            }
            if (c == '\r' || c == '\n') {
                endLine();
                skipLf = c == '\r';
                i++;
                continue;
            }
            switch (mode) {
                case FIELD -> {
                    if (c == ':') {
                        mode = fieldLen == 0 ? Mode.IGNORE : modeOfField();
                        skipSpace = true;
                        if (mode == Mode.DATA) {
                            startDataLine();
                        }
                    } else if (fieldLen < MAX_FIELD) {
                        field[fieldLen++] = c;
                    } else {
                        fieldTooLong = true;
                    }
                    i++;
                }
                case DATA -> {
                    if (skipSpace) {
                        skipSpace = false;
                        if (c == ' ') {
                            i++;
                            continue;
                        }
                    }
                    int j = i;
                    while (j < end && b[j] != '\r' && b[j] != '\n') {
                        j++;
                    }
                    listener.data(b, i, j - i, false);
                    i = j;
                }
                case EVENT -> {
                    if (skipSpace) {
                        skipSpace = false;
                        if (c == ' ') {
                            i++;
                            continue;
                        }
                    }
                    if (eventNameLen < MAX_EVENT_NAME) {
                        eventName[eventNameLen++] = c;
                    }
                    i++;
                }
                default -> i++;
            }
        }
    }

    /** The stream ended: an event with data that no blank line closed is still delivered. */
    void end() {
        if (mode != Mode.FIELD || fieldLen > 0) {
            endLine();
        }
        if (dataLines > 0) {
            dispatch();
        }
    }

    private Mode modeOfField() {
        if (fieldTooLong) {
            return Mode.IGNORE;
        }
        if (is("data")) {
            return Mode.DATA;
        }
        if (is("event")) {
            eventNameLen = 0;
            return Mode.EVENT;
        }
        return Mode.IGNORE;
    }

    private boolean is(String name) {
        if (fieldLen != name.length()) {
            return false;
        }
        for (int k = 0; k < fieldLen; k++) {
            if (field[k] != name.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private void startDataLine() {
        listener.data(NONE, 0, 0, dataLines > 0);
        dataLines++;
    }

    private void endLine() {
        if (mode == Mode.FIELD) {
            if (fieldLen == 0 && !fieldTooLong) {
                if (dataLines > 0) {
                    dispatch();
                }
                eventNameLen = 0;
            } else if (is("data")) {
                startDataLine();
            }
        }
        mode = Mode.FIELD;
        fieldLen = 0;
        fieldTooLong = false;
    }

    private void dispatch() {
        String name = eventNameLen == 0 ? null : new String(eventName, 0, eventNameLen, StandardCharsets.UTF_8);
        dataLines = 0;
        eventNameLen = 0;
        listener.eventEnd(name);
    }
}
