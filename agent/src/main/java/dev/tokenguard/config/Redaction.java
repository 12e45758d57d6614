package dev.tokenguard.config;

import java.util.Locale;
import java.util.regex.Pattern;

/** Makes a configuration value safe to show in a one-line error message. */
final class Redaction {
    private static final Pattern SECRET_KEY = Pattern.compile(
            ".*(secret|password|passwd|credential|credentials|api[-_.]?key|auth|authorization|bearer|private[-_.]?key"
                    + "|(^|[-_.])token)$");
    private static final Pattern URL_USER_INFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)[^/@\\s]*@");
    /** The query or fragment of a URL, up to the next list separator or white space. */
    private static final Pattern URL_QUERY = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^\\s?#,;]*)([?#])[^\\s,;]*");
    private static final int MAX_SHOWN = 200;

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
        if (looksSecret(key)) {
            return "(hidden)";
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
}
