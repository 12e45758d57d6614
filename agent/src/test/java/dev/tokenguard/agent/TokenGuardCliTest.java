package dev.tokenguard.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenGuardCliTest {

    @TempDir
    Path tmp;

    @Test
    void reportWithHtmlWritesThePage() throws IOException {
        Files.writeString(tmp.resolve("s.jsonl"), "{\"ts\":\"2026-11-30T09:00:00Z\",\"session\":\"s\",\"event\":\"llm_call\","
                + "\"provider\":\"openai\",\"request_model\":\"gpt-4o\",\"input_tokens\":3,\"output_tokens\":4,\"total_tokens\":7}\n");
        Path html = tmp.resolve("usage.html");
        assertEquals(0, TokenGuardCli.run(new String[] {"report", "--html", html.toString(), tmp.toString()}));
        String page = Files.readString(html);
        assertTrue(page.startsWith("<!DOCTYPE html>"), page);
        assertTrue(page.contains("data-total=\"7\""), page);
    }

    @Test
    void theDirectoryMayComeBeforeHtml() {
        Path html = tmp.resolve("usage.html");
        assertEquals(0, TokenGuardCli.run(new String[] {"report", tmp.toString(), "--html", html.toString()}));
        assertTrue(Files.isRegularFile(html));
    }

    @Test
    void badArgumentsExitTwoAndWriteNothing() {
        Path html = tmp.resolve("usage.html");
        assertEquals(2, TokenGuardCli.run(new String[] {"report", "--html"}), "--html without a file");
        assertEquals(2, TokenGuardCli.run(new String[] {"report", "--html", html.toString(), "--html", html.toString()}));
        assertEquals(2, TokenGuardCli.run(new String[] {"report", tmp.toString(), tmp.toString()}), "two directories");
        assertEquals(2, TokenGuardCli.run(new String[] {"report", "--pdf", html.toString()}), "an unknown option");
        assertEquals(2, TokenGuardCli.run(new String[] {"summary"}));
        assertFalse(Files.exists(html));
    }

    @Test
    void replayTakesAFileOrAnIdWithDirAndJson() throws IOException {
        String id = "thread:main#1~p1-a-1";
        Files.writeString(tmp.resolve("thread_main_1_p1-a-1-x.jsonl"), "{\"ts\":\"2026-11-30T09:00:00Z\",\"session\":\""
                + id + "\",\"seq\":1,\"event\":\"llm_call\",\"provider\":\"openai\",\"request_model\":\"gpt-4o\","
                + "\"input_tokens\":3,\"output_tokens\":4,\"total_tokens\":7}\n");
        assertEquals(0, TokenGuardCli.run(new String[] {"replay", id, "--dir", tmp.toString()}));
        assertEquals(0, TokenGuardCli.run(new String[] {"replay", "--json", "--dir", tmp.toString(), id}));
        assertEquals(0, TokenGuardCli.run(new String[] {"replay", tmp.resolve("thread_main_1_p1-a-1-x.jsonl").toString()}));
        assertEquals(2, TokenGuardCli.run(new String[] {"replay", "thread:main#1~p1-a-2", "--dir", tmp.toString()}),
                "an unknown id");
        assertEquals(2, TokenGuardCli.run(new String[] {"replay"}), "no session named");
        assertEquals(2, TokenGuardCli.run(new String[] {"replay", id, "--dir"}), "--dir without a directory");
        assertEquals(2, TokenGuardCli.run(new String[] {"replay", id, "other"}), "two sessions");
        assertEquals(2, TokenGuardCli.run(new String[] {"replay", id, "--html", "x.html"}), "an unknown option");
    }
}
