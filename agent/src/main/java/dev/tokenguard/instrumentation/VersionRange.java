package dev.tokenguard.instrumentation;

import java.util.ArrayList;
import java.util.List;

/**
 * The versions of an SDK a plugin supports: from {@code oldest} (inclusive) up to, not including,
 * {@code below}. Versions compare by their numeric dot-separated parts; a pre-release suffix
 * ({@code 1.0.0-beta.3}) sorts before its release.
 *
 * @param oldest the oldest supported version, e.g. {@code 4.0.0}
 * @param below  the first unsupported version, e.g. {@code 5}
 */
public record VersionRange(String oldest, String below) {

    /** Whether {@code version} lies in the range; an unparsable version does not. */
    public boolean contains(String version) {
        try {
            return compare(version, oldest) >= 0 && compare(version, below) < 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** How messages name the range, e.g. {@code 4.0.0 up to (not including) 5}. */
    public String describe() {
        return oldest + " up to (not including) " + below;
    }

    static int compare(String a, String b) {
        List<Long> x = parts(a);
        List<Long> y = parts(b);
        for (int i = 0; i < Math.max(x.size(), y.size()); i++) {
            long p = i < x.size() ? x.get(i) : 0;
            long q = i < y.size() ? y.get(i) : 0;
            if (p != q) {
                return Long.compare(p, q);
            }
        }
        boolean preA = a.indexOf('-') >= 0;
        boolean preB = b.indexOf('-') >= 0;
        return preA == preB ? 0 : preA ? -1 : 1;
    }

    private static List<Long> parts(String version) {
        String release = version.trim();
        int dash = release.indexOf('-');
        if (dash >= 0) {
            release = release.substring(0, dash);
        }
        List<Long> parts = new ArrayList<>();
        for (String p : release.split("\\.")) {
            parts.add(Long.parseLong(p));
        }
        return parts;
    }
}
