package dev.tokenguard.agent;

import java.util.Map;
import java.util.Properties;

/**
 * What {@code premain} decides before it installs anything, without loading the configuration classes: whether
 * {@code tokenguard.enabled} is {@code false}, when a source that {@code premain} can read cheaply says so (agent
 * argument, system property, environment variable, in that order of precedence, a blank value counting as not set),
 * or whether only the full configuration can tell (a config file is named, or the winning value is neither
 * {@code true} nor {@code false}).
 */
enum StartSwitch {
    /** Nothing says disabled and no file can: start, the configuration is read off the start-up path. */
    START,
    /** {@code tokenguard.enabled=false}: install nothing at all. */
    DISABLED,
    /** A config file may decide, or the value is malformed: read the whole configuration before installing. */
    READ_FIRST;

    static StartSwitch of(String arguments, Properties properties, Map<String, String> environment) {
        String enabled = argument(arguments, "enabled");
        if (enabled == null) {
            enabled = blankToNull(properties.getProperty("tokenguard.enabled"));
        }
        if (enabled == null) {
            enabled = blankToNull(environment.get("TOKENGUARD_ENABLED"));
        }
        if (enabled != null) {
            if (enabled.equalsIgnoreCase("false")) {
                return DISABLED;
            }
            if (!enabled.equalsIgnoreCase("true")) {
                return READ_FIRST;
            }
            return START; // enabled wins over anything a file could say
        }
        String file = argument(arguments, "config.file");
        if (file == null) {
            file = blankToNull(properties.getProperty("tokenguard.config.file"));
        }
        if (file == null) {
            file = blankToNull(environment.get("TOKENGUARD_CONFIG_FILE"));
        }
        return file == null || file.equalsIgnoreCase("none") ? START : READ_FIRST;
    }

    /** The trimmed value of {@code key} among {@code k=v,k2=v2} agent arguments, or null when absent or blank. */
    private static String argument(String arguments, String key) {
        if (arguments == null) {
            return null;
        }
        for (String piece : arguments.split(",")) {
            int eq = piece.indexOf('=');
            if (eq > 0 && piece.substring(0, eq).trim().equals(key)) {
                return blankToNull(piece.substring(eq + 1));
            }
        }
        return null;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }
}
