import Foundation
import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// `actor-chat-cli join` in a real terminal (a tmux pane): what a person sees while typing long
/// lines, while messages arrive, and while the server is away.
@Suite(.enabled(if: TmuxPane.available, "needs tmux (.ci/run installs it)"))
struct TerminalPromptTests {
    private static let prompt = "[lobby] > "
    /// The prompt as a screen row shows it with nothing typed (rows lose trailing blanks).
    private static let emptyPrompt = "[lobby] >"

    /// The client in a pane of `columns`, joined to `lobby` as alice, prompt drawn; `password`
    /// logs in to alice's account.
    private func startClient(port: Int, columns: Int, rows: Int = 30, password: String? = nil) async throws -> TmuxPane {
        let cli = ChildProcess.buildDirectory.appendingPathComponent("actor-chat-cli").path
        // Under `timeout`: a client left behind by a test that was killed must not live on,
        // reconnecting to whatever server gets its port next.
        let pane = try TmuxPane(
            columns: columns, rows: rows,
            command: ["env", "ACTOR_CHAT_PASSWORD=\(password ?? "")", "timeout", "300", cli, "join", "lobby", "--port", String(port), "--name", "alice", "--history", "0"])
        do {
            try await pane.waitForScreen("the prompt") { $0.contains { $0.hasPrefix(Self.emptyPrompt) } }
        } catch {
            pane.close()
            throw error
        }
        return pane
    }

    /// Text `widths` screens wide, mixing ASCII, a wide character and a combining accent, with no
    /// spaces (a trailing blank cannot be told from an empty cell).
    private func typedText(columns: Int, widths: Int) -> String {
        let pieces: [(String, Int)] = [("a", 1), ("b", 1), ("漢", 2), ("c", 1), ("e\u{301}", 1), ("d", 1), ("字", 2), ("f", 1)]
        var text = "", width = 0, index = 0
        while width < columns * widths {
            let (piece, pieceWidth) = pieces[index % pieces.count]
            index += 1
            if width + pieceWidth > columns * widths { continue }
            text += piece
            width += pieceWidth
        }
        return text
    }

    /// The prompt's rows joined, from the one row that starts with the prompt to the end.
    private func liveRegion(_ rows: [String]) -> String? {
        guard let start = rows.firstIndex(where: { $0.hasPrefix(Self.emptyPrompt) }) else { return nil }
        return rows[start...].joined()
    }

    @Test(arguments: [40, 120])
    func inputThatWrapsIsRedrawnWithoutStaleRowsWhileMessagesArrive(columns: Int) async throws {
        let server = try await TestServer.start()
        let bob = try await server.client("bob")
        try await bob.request("join", ["room": "lobby"])
        let pane = try await startClient(port: server.port, columns: columns)
        defer { pane.close() }
        _ = try await bob.next("user_joined")
        for widths in 1...3 {
            let text = typedText(columns: columns, widths: widths)
            let characters = Array(text)
            let third = characters.count / 3
            let chunks = [characters[..<third], characters[third..<(2 * third)], characters[(2 * third)...]].map { String($0) }
            var typed = ""
            for (index, chunk) in chunks.enumerated() {
                try pane.type(chunk)
                typed += chunk
                let said = "bob\(widths)x\(index)"
                try await bob.request("send", ["room": "lobby", "text": .string(said)])
                let expected = Self.prompt + typed
                let screen = try await pane.waitForScreen("\(said) and \(typed.count) typed characters") { rows in
                    rows.contains { $0.hasSuffix("bob: \(said)") } && self.liveRegion(rows) == expected
                }
                #expect(screen.filter { $0.contains(Self.emptyPrompt) }.count == 1, "one prompt, no stale copies:\n\(screen.joined(separator: "\n"))")
                #expect(screen.filter { $0.hasSuffix("bob: \(said)") }.count == 1)
            }
            try pane.press("Enter")
            let sent = try await bob.next("message", with: ["from": "alice"])
            #expect(sent["text"]?.string == text, "what was typed is what was sent")
            let screen = try await pane.waitForScreen("the prompt to clear") { rows in rows.last { !$0.isEmpty } == Self.emptyPrompt }
            #expect(screen.filter { $0.contains(Self.emptyPrompt) }.count == 1)
        }
        // The client goes first: left running, it would reconnect to whatever server gets the port next.
        pane.close()
        await server.stop()
    }

    @Test func ctrlLRedrawsAScreenWithOnlyThePromptAndTheInput() async throws {
        let server = try await TestServer.start()
        let pane = try await startClient(port: server.port, columns: 40)
        defer { pane.close() }
        try pane.type("half typed")
        try await pane.waitForScreen("the typed text") { $0.contains(Self.prompt + "half typed") }
        try pane.press("C-l")
        let screen = try await pane.waitForScreen("a cleared screen") { $0.first == Self.prompt + "half typed" }
        #expect(screen.dropFirst().allSatisfy { $0.isEmpty }, "nothing but the prompt:\n\(screen.joined(separator: "\n"))")
        // The client goes first: left running, it would reconnect to whatever server gets the port next.
        pane.close()
        await server.stop()
    }

    /// `/passwd` asks for the old password and the new one twice with the typing shown as `*`, and
    /// the chat goes on meanwhile.
    @Test func passwdChangesThePasswordWithoutShowingIt() async throws {
        let server = try await TestServer.start()
        try await server.client().request("register", ["name": "alice", "password": "the first password"])
        let pane = try await startClient(port: server.port, columns: 80, password: "the first password")
        defer { pane.close() }
        // Given up with Ctrl-C, a half-typed secret leaves nothing behind in the input.
        try pane.type("/passwd")
        try pane.press("Enter")
        try await pane.waitForScreen("the first label") { $0.contains { $0.hasPrefix("old password:") } }
        try pane.type("half typed")
        try pane.press("C-c")
        let cleared = try await pane.waitForScreen("the chat's prompt back") { $0.last { !$0.isEmpty } == Self.emptyPrompt }
        #expect(!cleared.contains { $0.contains("half typed") })
        try pane.type("/passwd")
        try pane.press("Enter")
        for (label, secret) in [("old password: ", "the first password"), ("new password: ", "second secret"), ("the new one again: ", "second secret")] {
            try await pane.waitForScreen(label) { $0.contains { $0.hasPrefix(label.trimmingCharacters(in: .whitespaces)) } }
            try pane.type(secret)
            let typed = try await pane.waitForScreen("\(label) masked") { $0.contains(label + String(repeating: "*", count: secret.count)) }
            #expect(!typed.contains { $0.contains(secret) }, "a password shows on the screen")
            try pane.press("Enter")
        }
        let screen = try await pane.waitForScreen("the change") { $0.contains { $0.contains("* password changed") } }
        #expect(!screen.contains { $0.contains("first password") || $0.contains("second secret") })
        #expect(try await server.client().request("login", ["name": "alice", "password": "second secret"]).event == "welcome")
        pane.close()
        await server.stop()
    }

    /// While the server is away: one status line that updates, a line typed meanwhile kept in the
    /// input, and Enter sending it once the client is back.
    @Test func aLineTypedWhileDisconnectedIsKeptAndSentAfterTheReconnect() async throws {
        let first = try await TestServer.start()
        let port = first.port
        let pane = try await startClient(port: port, columns: 80)
        defer { pane.close() }
        await first.stop()
        try await pane.waitForScreen("the reconnect status") { $0.contains { $0.contains("* reconnecting to") } }
        try pane.type("said-while-away")
        try pane.press("Enter")
        let away = try await pane.waitForScreen("the line kept") { rows in
            rows.contains { $0.contains("not sent") } && rows.last { !$0.isEmpty } == Self.prompt + "said-while-away"
        }
        #expect(away.filter { $0.contains("* reconnecting to") }.count <= 1, "one status line, updated in place:\n\(away.joined(separator: "\n"))")

        let second = try await TestServer.start { $0.port = port }
        let bob = try await second.client("bob")
        try await bob.request("join", ["room": "lobby"])
        try await pane.waitForScreen("the reconnect") { $0.contains { $0.contains("* reconnected as alice after") } }
        try pane.press("Enter")
        #expect(try await bob.next("message", with: ["from": "alice"])["text"] == "said-while-away")
        let back = try await pane.waitForScreen("the status line gone") { !$0.contains { $0.contains("* reconnecting to") } }
        #expect(back.filter { $0.contains(Self.emptyPrompt) }.count == 1)
        // The client goes first: left running, it would reconnect to whatever server gets the port next.
        pane.close()
        await second.stop()
    }
}
