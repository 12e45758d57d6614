package dev.tokenguard.agent;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FirstCallClassesTest {

    @Test
    void everyNameIsAClassOfTheAgentOrItsLibrariesAndNoneIsListedTwice() {
        List<String> missing = new ArrayList<>();
        for (String name : FirstCallClasses.NAMES) {
            try {
                Class.forName(name, false, FirstCallClasses.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                missing.add(name);
            }
        }
        assertEquals(List.of(), missing, "names in FirstCallClasses.NAMES that are no class (renamed or removed? "
                + "update the list from -Xlog:class+load of a first call)");
        assertEquals(FirstCallClasses.NAMES.size(), new HashSet<>(FirstCallClasses.NAMES).size(), "a name twice");
        assertEquals(FirstCallClasses.NAMES.size(), FirstCallClasses.load(FirstCallClasses.class.getClassLoader()));
    }
}
