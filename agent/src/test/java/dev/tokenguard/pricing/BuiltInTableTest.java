package dev.tokenguard.pricing;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuiltInTableTest {

    @Test
    void readsTheBuiltInTableExactlyAsTheCheckingReaderDoes() throws Exception {
        byte[] json;
        try (InputStream in = PriceTable.class.getResourceAsStream(PriceTable.RESOURCE)) {
            json = in.readAllBytes();
        }
        PriceFileReader.Contents checked = PriceFileReader.read("built-in", json, true);
        PriceFileReader.Contents fast = BuiltInTable.read(json);
        assertTrue(checked.models().size() > 50, "the built-in table has its entries: " + checked.models().size());
        assertEquals(checked.date(), fast.date());
        assertEquals(checked.models(), fast.models());
        assertEquals(checked.models(), PriceTable.builtIn().entries());
    }

    @Test
    void readsEveryJsonFormTheTableCouldTakeAndRejectsWhatIsNotJson() {
        String table = "{\"date\":\"2026-01-02\",\"models\":[{\"pattern\":\"a\\u0062c\\\\\\\"*\",\"provider\":null,"
                + "\"input\":1e0,\"output\":-0.5E+1,\"cached_input\":0,\"note\":\"x\\n\\t/\",\"flag\":true,"
                + "\"other\":false,\"list\":[ ],\"obj\":{ }}]} ";
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> BuiltInTable.read(table.getBytes(StandardCharsets.UTF_8)));
        assertTrue(negative.getMessage().contains("output"), "ModelPrice refuses the negative price: " + negative);

        PriceFileReader.Contents read = BuiltInTable.read(table.replace("-0.5E+1", "0.5E+1")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("2026-01-02", read.date());
        assertEquals(List.of(new ModelPrice("abc\\\"*", null, 1.0, 0.0, null, 5.0, null)), read.models());

        for (String bad : List.of("{\"date\":\"x\"", "{\"a\":1,\"a\":2}", "{\"a\":01x}", "{\"a\":tru}",
                "{\"a\":\"\\q\"}", "{} {}", "{\"a\":[1,]}", "{\"a\":\"\u0001\"}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BuiltInTable.read(bad.getBytes(StandardCharsets.UTF_8)), bad);
            assertTrue(e.getMessage().startsWith("built-in price table: ") && e.getMessage().contains(" at offset "),
                    e.getMessage());
        }
    }
}
