package dev.tokenguard.core;

/**
 * The input of a request as its reservation reads it: first a cheap upper bound of its tokens, and its text (to be
 * counted exactly) only when the bound is too coarse for the budget's room. A byte-level BPE token (every encoding
 * TokenGuard counts with) is at least one UTF-8 byte, so the length in UTF-8 bytes of the request body, or of the
 * prompt's text, is such a bound.
 */
public interface RequestInput {
    /** At least the input tokens of the request; negative when it cannot be known. */
    long tokenBound();

    /** The prompt's text, counted locally to reserve the input exactly; null when it cannot be read. */
    String text();

    /** The input of a request whose prompt text is already known: its bound is the text's length in UTF-8 bytes. */
    static RequestInput ofText(String text) {
        return text == null ? null : new RequestInput() {
            @Override
            public long tokenBound() {
                return utf8Length(text);
            }

            @Override
            public String text() {
                return text;
            }
        };
    }

    /** The length of {@code s} in UTF-8 bytes, without encoding it (an unpaired surrogate counts as {@code ?}). */
    static long utf8Length(CharSequence s) {
        long n = 0;
        int length = s.length();
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
