package dev.tokenguard.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes a configuration value, or a whole error line, safe to show. A value is never shown when its key looks like
 * a secret's ({@code ...api-key}, {@code ...password}) or when it holds something that looks like a credential: a
 * provider API key ({@code sk-...}, {@code sk-ant-...}, {@code AKIA...}, {@code AIza...}, {@code ghp_...},
 * {@code xox?-...}), a JSON Web Token, a {@code Bearer} value or a long random-looking run of letters and digits.
 * The user info, query and fragment of a URL are masked wherever they appear.
 */
public final class Redaction {
    /** What a message shows instead of a value that is not shown. */
    static final String MASKED = "(masked)";
    /** What replaces a credential-looking part of a longer text. */
    static final String MASK = "***";
    private static final Pattern SECRET_KEY = Pattern.compile(
            ".*(secret|password|passwd|credential|credentials|api[-_.]?key|auth|authorization|bearer|private[-_.]?key"
                    + "|(^|[-_.])token)$");
    private static final Pattern URL_USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/@\\s]*@");
    /** The query or fragment of a URL, up to the next list separator or white space. */
    private static final Pattern URL_QUERY = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^\\s?#,;]*)([?#])[^\\s,;]*");
    private static final int MAX_SHOWN = 200;
    /** As {@link #URL_QUERY} inside a message, where the URL may stand in quotes or brackets. */
    private static final Pattern URL_QUERY_IN_TEXT =
            Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^\\s?#,;'\"()\\[\\]]*)([?#])[^\\s,;'\"()\\[\\]]*");
    /** Credentials of known shapes, each as a whole word. */
    private static final Pattern KNOWN_CREDENTIAL = Pattern.compile(
            "(?<![A-Za-z0-9])(?:(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}"
                    + "|AKIA[0-9A-Z]{16}"
                    + "|AIza[0-9A-Za-z_-]{20,}"
                    + "|(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{16,}"
                    + "|xox[abprs]-[A-Za-z0-9-]{10,}"
                    + "|eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_.-]*"
                    + "|(?i:bearer)\\s+[A-Za-z0-9._~+/=-]{8,})");
    /** A run long enough to be a generated key; judged by {@link #randomLooking}. */
    private static final Pattern LONG_RUN = Pattern.compile("(?<![A-Za-z0-9+_=-])[A-Za-z0-9+_=-]{32,}");
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F-]+");

    private Redaction() {
    }

    /** Whether a key's values must never be shown (e.g. {@code x.api-key}; not {@code max-tokens}). */
    static boolean looksSecret(String key) {
        return key != null && SECRET_KEY.matcher(key.toLowerCase(Locale.ROOT)).matches();
    }

    /**
     * The value as it may appear in a message: hidden for secret-looking keys, URL credentials, queries and fragments
     * masked, one line, bounded.
     */
    static String shown(String key, String value) {
        if (mustMask(key, value)) {
            return MASKED;
        }
        StringBuilder sb = new StringBuilder();
        for (char c : url(value).toCharArray()) {
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        String s = sb.toString();
        return s.length() > MAX_SHOWN ? s.substring(0, MAX_SHOWN) + "..." : s;
    }

    /** The text with the user info, query and fragment of every URL in it replaced by {@code ***}. */
    static String url(String text) {
        return URL_QUERY.matcher(maskUserInfo(text)).replaceAll("$1$2***");
    }

    static String maskUserInfo(String text) {
        return URL_USER_INFO.matcher(text).replaceAll("$1***@");
    }

    /** Whether a value must not be shown at all: its key looks like a secret's, or it holds a credential. */
    static boolean mustMask(String key, String value) {
        return looksSecret(key) || (value != null && holdsCredential(value));
    }

    /** Whether the text holds something that looks like a credential (URL user info and queries aside). */
    static boolean holdsCredential(String text) {
        if (KNOWN_CREDENTIAL.matcher(text).find()) {
            return true;
        }
        Matcher run = LONG_RUN.matcher(text);
        while (run.find()) {
            if (randomLooking(run.group())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The text with every credential-looking word, and the user info, query and fragment of every URL, replaced by
     * {@value #MASK}: the last guard of a message that quotes a file's content or a parser's words.
     */
    public static String scrub(String text) {
        if (text == null) {
            return null;
        }
        String s = URL_QUERY_IN_TEXT.matcher(maskUserInfo(text)).replaceAll("$1$2" + MASK);
        s = KNOWN_CREDENTIAL.matcher(s).replaceAll(MASK);
        Matcher run = LONG_RUN.matcher(s);
        StringBuilder out = new StringBuilder(s.length());
        while (run.find()) {
            run.appendReplacement(out, randomLooking(run.group()) ? MASK : Matcher.quoteReplacement(run.group()));
        }
        run.appendTail(out);
        return out.toString();
    }

    /**
     * A long run (32 or more characters) of upper and lower case letters and digits mixed, or of hex digits with at
     * least one digit: generated keys look like this, words and names joined by '-' do not.
     */
    private static boolean randomLooking(String run) {
        boolean upper = false;
        boolean lower = false;
        boolean digit = false;
        for (int i = 0; i < run.length(); i++) {
            char c = run.charAt(i);
            upper |= c >= 'A' && c <= 'Z';
            lower |= c >= 'a' && c <= 'z';
            digit |= c >= '0' && c <= '9';
        }
        return (upper && lower && digit) || (digit && HEX.matcher(run).matches());
    }
}
