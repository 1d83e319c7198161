import Glibc
import Foundation
import Synchronization
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// Collects what the CLI prints.
final class CapturedOutput: Sendable {
    private let lines = Mutex<[String]>([])
    /// Resumed at every new line, for `waitFor`.
    private let listeners = Mutex<[CheckedContinuation<Void, Never>]>([])

    var all: [String] { lines.withLock { $0 } }
    var text: String { all.joined(separator: "\n") }

    func append(_ line: String) {
        lines.withLock { $0.append(line) }
        listeners.withLock { waiting in
            defer { waiting = [] }
            return waiting
        }.forEach { $0.resume() }
    }

    /// Returns once some line contains `text`.
    func waitFor(_ text: String, timeout: Duration = .seconds(20)) async throws {
        try await withDeadline(timeout, waitingFor: "'\(text)' in the output") { [self] in
            while !self.text.contains(text) {
                try Task.checkCancellation()
                await withCheckedContinuation { continuation in
                    // Checked and registered under one lock: a line appended after the check resumes it.
                    let ready = listeners.withLock { waiting -> Bool in
                        if self.text.contains(text) { return true }
                        waiting.append(continuation)
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    func console() -> ChatCommandLine.Console {
        ChatCommandLine.Console(out: append, err: append, interactive: false, color: false)
    }
}

@Suite struct RendererTests {
    private let renderer = Renderer(color: false, me: "me")

    @Test(arguments: [
        ("\u{1B}[2J\u{1B}[H", "^[[2J^[[H"), ("bell\u{7}", "bell^G"), ("del\u{7F}", "del^?"), ("c1\u{9B}31m", "c1\\u{9b}31m"),
        ("rtl\u{202E}txt", "rtl\\u{202e}txt"), ("cr\roverwrite", "cr^Moverwrite"), ("tab\there", "tab    here"), ("é😀 ok", "é😀 ok"),
    ])
    func neutralisesEscapesAndControlCharacters(_ input: String, _ expected: String) {
        let output = Renderer.neutralize(input)
        #expect(output == expected)
        #expect(!output.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F..<0xA0).contains($0.value) })
    }

    @Test func rendersMessagesNoticesAndErrors() throws {
        let message = ServerFrame(event: "message", params: ["room": "lobby", "from": "ann\u{1B}[31m", "text": "hi\nthere", "seq": .number("1"), "ts": .number("0")])
        let line = try #require(renderer.render(message))
        #expect(line.hasSuffix("[lobby] ann^[[31m: hi\n      there"))
        #expect(renderer.render(ServerFrame(event: "user_left", params: ["room": "r", "user": "bob", "reason": "slow_consumer"]))?.hasSuffix("* bob left (slow consumer)") == true)
        #expect(renderer.render(ServerFrame(event: "user_left", params: ["room": "r", "user": "bob", "reason": "kicked"]))?.hasSuffix("* bob was kicked") == true)
        #expect(renderer.render(ServerFrame(event: "dm", params: ["from": "bob", "to": "me", "text": "yo"]))?.hasSuffix("[dm] bob → you: yo") == true)
        #expect(renderer.render(ServerFrame(event: "dm", params: ["from": "me", "to": "bob", "text": "yo"]))?.hasSuffix("[dm] you → bob: yo") == true)
        let full = ServerFrame(event: "error", params: ["code": "room_full", "message": "room 'x' is full (10/10)"])
        #expect(renderer.render(full) == "! room 'x' is full (10/10)")
        #expect(renderer.render(ServerFrame(event: "pong")) == nil)
    }

    @Test func colourIsOptional() throws {
        let frame = ServerFrame(event: "message", params: ["room": "r", "from": "ann", "text": "x"])
        #expect(try #require(Renderer(color: true, me: "me").render(frame)).contains("\u{1B}["))
        #expect(try #require(renderer.render(frame)).contains("\u{1B}") == false)
    }
}

@Suite struct LineEditorTests {
    private func feed(_ editor: inout LineEditor, _ bytes: [UInt8]) -> [LineEditor.Action] {
        bytes.compactMap { editor.feed($0) }
    }

    @Test func editsAndSubmits() {
        var editor = LineEditor()
        _ = feed(&editor, Array("héllo".utf8))
        _ = feed(&editor, [0x7F, 0x7F, 0x7F, 0x7F])
        #expect(editor.text == "h")
        _ = feed(&editor, Array("i there".utf8) + [0x17])
        #expect(editor.text == "hi ")
        _ = feed(&editor, [0x1B, 0x5B, 0x44] + Array("x".utf8))
        #expect(editor.text == "hi x")
        #expect(feed(&editor, [0x0D]).last == .submit("hi x"))
        #expect(editor.text.isEmpty)
    }

    @Test func controlKeys() {
        var editor = LineEditor()
        #expect(editor.feed(0x04) == .endOfInput)
        _ = feed(&editor, Array("a".utf8))
        #expect(editor.feed(0x04) == nil)
        #expect(editor.feed(0x15) == .redraw)
        #expect(editor.text.isEmpty)
        #expect(editor.feed(0x03) == .interrupt)
    }
}

@Suite struct BackoffTests {
    @Test func growsWithJitterAndStaysCapped() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        let delays = (0..<12).map { _ in backoff.next() }
        #expect(delays[0] >= .milliseconds(50) && delays[0] < .milliseconds(150))
        #expect(delays.allSatisfy { $0 <= .seconds(2) })
        #expect(delays.suffix(4).allSatisfy { $0 >= .seconds(1) })
        backoff.reset()
        #expect(backoff.next() < .milliseconds(150))
    }
}

@Suite struct ChatCommandLineTests {
    /// What the executable offers: the client's subcommands and the bench's.
    static let all = ChatCommandLine.subcommands + BenchCommandLine.subcommands

    private func run(_ arguments: [String], environment: [String: String] = [:]) async -> (Int32, CapturedOutput) {
        let output = CapturedOutput()
        let code = await ChatCommandLine.main(arguments, environment: environment, console: output.console(), subcommands: Self.all)
        return (code, output)
    }

    @Test(arguments: [["--bogus"], ["dance"], ["join"], ["join", "lobby", "--port", "x"], ["create", "r", "--nope"], ["who", "a", "b"], []])
    func badCommandLinesExit64WithUsage(_ arguments: [String]) async {
        let (code, output) = await run(arguments)
        #expect(code == 64)
        #expect(output.all.first?.hasPrefix(arguments.isEmpty ? "OVERVIEW" : "error: ") == true)
        #expect(output.text.contains("USAGE: actor-chat-cli"))
    }

    @Test func theDefaultNameIsStable() {
        #expect(ChatCommandLine.defaultName(["ACTOR_CHAT_NAME": "ann", "USER": "root"]) == "ann")
        #expect(ChatCommandLine.defaultName(["USER": "", "LOGNAME": "bob"]) == "bob")
        #expect(ChatCommandLine.defaultName(["USER": "not a name"]) == "uid\(getuid())")
        #expect(ChatCommandLine.defaultName([:]) == ChatCommandLine.defaultName([:]))
    }

    @Test func helpForTheToolAndEachSubcommand() async {
        let (code, output) = await run(["--help"])
        #expect(code == 0)
        for name in Self.all.map(\.name) {
            #expect(output.text.contains(name))
            let (subcode, suboutput) = await run([name, "--help"])
            #expect(subcode == 0)
            #expect(suboutput.text.contains("USAGE: actor-chat-cli \(name)"))
        }
    }

    @Test func aRegisteredNameLogsInWithItsPassword() async throws {
        let server = try await TestServer.start()
        let port = String(server.port)
        let password = ["ACTOR_CHAT_PASSWORD": "ivy's password"]
        var (code, output) = await run(["register", "ivy", "--port", port], environment: password)
        #expect(code == 0)
        #expect(output.all.first?.hasPrefix("registered ivy; log in with --name ivy") == true)
        (code, output) = await run(["register", "ivy", "--port", port], environment: password)
        #expect(code == 1)
        #expect(output.text.contains("registered already"))
        (code, output) = await run(["register", "jo", "--port", port])
        #expect(code == 64, "no password and no terminal to ask at")
        (code, output) = await run(["rooms", "--name", "ivy", "--port", port])
        #expect(code == 1)
        #expect(output.text.contains("registered name") && output.text.contains("ACTOR_CHAT_PASSWORD"))
        (code, output) = await run(["rooms", "--name", "ivy", "--port", port], environment: ["ACTOR_CHAT_PASSWORD": "a wrong password"])
        #expect(code == 1)
        #expect(output.text.contains("wrong name or password"))
        (code, output) = await run(["send", "lobby", "hi", "--name", "ivy", "--port", port], environment: password)
        #expect(code == 0)
        #expect(output.all == ["sent to lobby (seq 1)"])
        await server.stop()
    }

    @Test func oneShotsPrintAndExit() async throws {
        let server = try await TestServer.start()
        let port = String(server.port)
        let watcher = try await server.client("watcher")
        try await watcher.request("join", ["room": "lobby"])

        var (code, output) = await run(["create", "dev", "--limit", "3", "--port", port])
        #expect(code == 0)
        #expect(output.all == ["created dev (limit 3)"])
        (code, output) = await run(["rooms", "--port", port])
        #expect(output.all == ["dev 0/3", "lobby 1/1000"])
        (code, output) = await run(["who", "lobby", "--port", port])
        #expect(output.all == ["watcher"])
        (code, output) = await run(["send", "lobby", "hello", "from", "a", "script", "--port", port, "--name", "scripter"])
        #expect(code == 0)
        #expect(output.all == ["sent to lobby (seq 1)"])
        #expect(try await watcher.next("message")["text"] == "hello from a script")
        (code, output) = await run(["rooms", "--port", port, "--json"])
        #expect(try Envelope.decode(Array(output.all[0].utf8)[...]).get().event == "rooms")
        (code, output) = await run(["logs", "--port", port])
        #expect(code == 1)
        #expect(output.text.contains("forbidden"))
        (code, output) = await run(["logs", "--port", port, "--limit", "500"], environment: ["ACTOR_CHAT_ADMIN_TOKEN": "sesame"])
        #expect(code == 0)
        #expect(output.text.contains("login scripter"))
        (code, output) = await run(["close", "dev", "--port", port, "--token", "sesame"])
        #expect(output.all == ["closed dev"])
        (code, output) = await run(["who", "nowhere", "--port", port])
        #expect(code == 1)
        #expect(output.all == ["error: no room named 'nowhere'"])
        (code, output) = await run(["who", "nowhere", "--port", port, "--json"])
        #expect(code == 1)
        #expect(output.all == [#"{"event":"error","params":{"code":"room_not_found","message":"no room named 'nowhere'"}}"#])
        (code, output) = await run(["join", "nowhere", "--port", port])
        #expect(code == 1)
        #expect(output.text.contains("to create it: actor-chat-cli join nowhere --create --limit N"))
        // A guest's rights end with its connection; a registered name keeps the rooms it makes, so
        // one command's room is still the next one's to close.
        (code, output) = await run(["create", "tmp0", "--limit", "2", "--port", port], environment: [:])
        (code, output) = await run(["close", "tmp0", "--port", port], environment: [:])
        #expect(output.text.contains("forbidden"))
        let password = ["ACTOR_CHAT_PASSWORD": "the default name's password"]
        (code, output) = await run(["register", "owner1", "--port", port], environment: password)
        #expect(code == 0, "\(output.all)")
        (code, output) = await run(["create", "tmp1", "--limit", "2", "--port", port, "--name", "owner1"], environment: password)
        #expect(output.all == ["created tmp1 (limit 2)"])
        (code, output) = await run(["close", "tmp1", "--port", port, "--name", "owner1"], environment: password)
        #expect(output.all == ["closed tmp1"])
        (code, output) = await run(["close", "tmp0", "--port", port, "--name", "root", "--token", "sesame"])
        #expect(output.all == ["closed tmp0"])
        await server.stop()
        (code, output) = await run(["rooms", "--port", port])
        #expect(code == 1)
        #expect(output.text.contains("cannot connect to localhost:\(port)"))
        #expect(output.text.contains("is the server running?"))
        (code, output) = await run(["join", "lobby", "--name", "ann", "--port", port])
        #expect(code == 1)
        #expect(output.all.first?.hasPrefix("error: cannot connect to localhost:\(port)") == true)
        #expect(output.text.contains("is the server running?"))
    }
}

@Suite struct SlashCommandTests {
    @Test func everyCommandIsRegistered() {
        #expect(SlashCommands.chat.names == [
            "help", "rooms", "who", "join", "history", "leave", "switch", "create", "msg", "close", "kick", "op", "deop", "ban", "unban", "invite",
            "uninvite", "passwd", "quit",
        ])
        #expect(SlashCommands.chat.help.contains("/sair"))
    }

    @Test func commandsDriveTheSession() async throws {
        let server = try await TestServer.start()
        let output = CapturedOutput()
        var options = ClientSession.Options(name: "ann")
        options.port = server.port
        let session = ClientSession(options: options, color: false, output: output.append)
        try await session.start()
        let events = Task { await session.run() }
        let commands = SlashCommands.chat
        func run(_ line: String) async -> SlashCommands.Outcome { await commands.execute(line, session: session, output: output.append) }

        #expect(await run("/join lobby") == .proceed)
        #expect(await session.current == "lobby")
        _ = await run("/create games 2")
        _ = await run("/join games")
        #expect(await session.rooms == ["lobby", "games"])
        #expect(await session.current == "games")
        _ = await run("/switch LOBBY")
        #expect(await session.current == "lobby")
        let bob = try await server.client("bob")
        try await bob.request("join", ["room": "lobby"])
        try await bob.request("join", ["room": "games"])
        try await session.say("hi bob")
        #expect(try await bob.next("message")["text"] == "hi bob")
        _ = await run("/msg bob psst and more")
        #expect(try await bob.next("dm")["text"] == "psst and more")
        _ = await run("/who")
        _ = await run("/kick lobby bob")
        _ = await run("/kick games bob")
        _ = await run("/leave games")
        #expect(await session.rooms == ["lobby"])
        _ = await run("/close games")
        _ = await run("/rooms")
        _ = await run("/frobnicate")
        _ = await run("/join")
        #expect(await run("/sair") == .quit)
        let text = output.text
        for expected in [
            "* you joined (1/1000): ann", "* room 'games' was created (limit 2)", "* talking in lobby", "ann: hi bob",
            "[dm] you → bob: psst and more", "* lobby (2/1000): ann, bob", "! forbidden: only the owner of 'lobby', its moderators or an admin may do that",
            "* kicked bob from games", "[games] * you left", "* room 'games' was closed by ann", "* lobby 2/1000",
            "! unknown command '/frobnicate'", "! usage: /join ROOM",
        ] {
            #expect(text.contains(expected), "\(expected)")
        }
        await session.quit()
        await events.value
        await server.stop()
    }

    /// Two clients of one account do not knock each other off in turn: the one replaced stops.
    @Test func aClientReplacedByItsAccountElsewhereStops() async throws {
        let server = try await TestServer.start()
        try await server.client().request("register", ["name": "ann", "password": "ann's password"])
        func session(_ output: CapturedOutput) -> ClientSession {
            var options = ClientSession.Options(name: "ann")
            options.port = server.port
            options.password = "ann's password"
            options.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            return ClientSession(options: options, color: false, output: output.append)
        }
        let (firstOutput, secondOutput) = (CapturedOutput(), CapturedOutput())
        let first = session(firstOutput)
        try await first.start()
        let firstEvents = Task { await first.run() }
        let second = session(secondOutput)
        try await second.start()
        let secondEvents = Task { await second.run() }
        await firstEvents.value
        #expect(await first.ended)
        #expect(firstOutput.text.contains("this client stops"))
        try await second.join("lobby")
        #expect(await !second.ended, "the newer login keeps the name")
        await second.quit()
        await secondEvents.value
        await server.stop()
    }

    @Test func reconnectsLogsInAgainAndRejoins() async throws {
        let first = try await TestServer.start()
        let port = first.port
        let output = CapturedOutput()
        var options = ClientSession.Options(name: "ann")
        options.port = port
        options.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        let session = ClientSession(options: options, color: false, output: output.append)
        try await session.start()
        try await session.join("lobby")
        let events = Task { await session.run() }
        await first.stop()
        let second = try await TestServer.start { $0.port = port }
        let watcher = try await second.client("watcher")
        // The session rejoins on its own, before or after the watcher arrives.
        let joined = try await watcher.request("join", ["room": "lobby"])
        if joined["members"]?.array?.contains("ann") != true {
            let arrived = try await watcher.next("user_joined", timeout: .seconds(20))
            #expect(arrived["user"] == "ann")
        }
        try await session.say("back again")
        #expect(try await watcher.next("message")["text"] == "back again")
        #expect(output.text.contains("* connection to localhost:\(port) lost"))
        #expect(output.all.contains { $0.hasPrefix("* reconnected as ann after ") && $0.hasSuffix("; rejoined lobby") })
        await session.quit()
        await events.value
        await second.stop()
    }
}

@Suite struct ClientHistoryTests {
    /// An account's session carries it across a restart: the reconnect logs in with the session
    /// the first login gave, not with the password again.
    @Test func anAccountReconnectsWithItsSession() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try await TestServer.start { $0.dataDirectory = directory.path }
        let port = first.port
        try await first.client().request("register", ["name": "ann", "password": "ann's password"])
        var options = ClientSession.Options(name: "ann")
        options.port = port
        options.password = "ann's password"
        options.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        let output = CapturedOutput()
        let session = ClientSession(options: options, color: false, output: output.append)
        try await session.start()
        try await session.join("lobby")
        let token = try #require(await session.session)
        let events = Task { await session.run() }
        await first.stop()
        let second = try await TestServer.start {
            $0.port = port
            $0.dataDirectory = directory.path
        }
        try await output.waitFor("rejoined lobby")
        #expect(await session.session == token, "the reconnect used the session, which comes back unchanged")
        #expect(second.log.lines(limit: 1000).contains { $0.contains("login ann (account)") })
        await session.quit()
        await events.value
        await second.stop()
    }

    /// `/history` pages back from the oldest message on screen, and when there is nothing before
    /// it says so in words that do not read as "this room has no history".
    @Test func historyPagesBackFromWhatIsShownAndSaysWhenNothingIsEarlier() async throws {
        let server = try await TestServer.start()
        let sender = try await server.client("sender")
        try await sender.request("join", ["room": "lobby"])
        for index in 1...4 { try await sender.request("send", ["room": "lobby", "text": .string("m\(index)")]) }
        let output = CapturedOutput()
        var options = ClientSession.Options(name: "ann")
        options.port = server.port
        options.history = 2
        let session = ClientSession(options: options, color: false, output: output.append)
        try await session.start()
        try await session.join("lobby")
        let events = Task { await session.run() }
        try await output.waitFor("m4")
        try await session.showHistory(5)
        try await output.waitFor("that is the start of lobby's history")
        #expect(output.all.filter { $0.hasSuffix("sender: m1") || $0.hasSuffix("sender: m2") }.count == 2, "the two before the replay")
        try await session.showHistory(5)
        try await output.waitFor("* nothing in lobby before the messages shown")
        try await session.join("empty", createLimit: 10)
        try await session.showHistory(5)
        try await output.waitFor("* no messages in empty yet")
        await session.quit()
        await events.value
        await server.stop()
    }

    @Test func aRestartIsResumedWithoutMissingOrRepeatingAMessage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try await TestServer.start { $0.dataDirectory = directory.path }
        let port = first.port
        let sender = try await first.client("sender")
        try await sender.request("join", ["room": "lobby"])
        try await sender.request("send", ["room": "lobby", "text": "m0"])
        let output = CapturedOutput()
        var options = ClientSession.Options(name: "ann")
        options.port = port
        options.history = 5
        options.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        let session = ClientSession(options: options, color: false, output: output.append)
        try await session.start()
        try await session.join("lobby")
        let events = Task { await session.run() }
        for index in 1...3 { try await sender.request("send", ["room": "lobby", "text": .string("m\(index)")]) }
        try await output.waitFor("m3")
        await first.stop()

        let second = try await TestServer.start {
            $0.port = port
            $0.dataDirectory = directory.path
        }
        let again = try await second.client("sender")
        try await again.request("join", ["room": "lobby"])
        // Said while ann may still be away: she gets them once, replayed or live.
        for index in 4...5 { try await again.request("send", ["room": "lobby", "text": .string("m\(index)")]) }
        try await output.waitFor("m5")
        try await output.waitFor("rejoined lobby")
        let text = output.text
        #expect(text.contains("(earlier) sender: m0"), "history on join is marked as earlier")
        for index in 0...5 {
            #expect(output.all.filter { $0.hasSuffix("sender: m\(index)") }.count == 1, "m\(index) is shown exactly once")
        }
        await session.quit()
        await events.value
        await second.stop()
    }
}

/// The real `actor-chat-cli` executable.
@Suite struct ChatExecutableTests {
    @Test func pipedJoinSendsEachLineThenLeavesAndExitsZero() async throws {
        let server = try await TestServer.start()
        let watcher = try await server.client("watcher")
        let input = Pipe()
        let cli = try ChildProcess(
            "actor-chat-cli", ["join", "fresh", "--create", "--limit", "5", "--port", String(server.port), "--name", "piper"],
            stdin: input.fileHandleForReading)
        #expect(try await watcher.next("room_created")["room"]?.object?["limit"]?.integer == 5)
        try await watcher.request("join", ["room": "fresh"])
        input.fileHandleForWriting.write(Data("first line\n\nsecond line\n".utf8))
        try input.fileHandleForWriting.close()
        #expect(try await watcher.next("message")["text"] == "first line")
        #expect(try await watcher.next("message")["text"] == "second line")
        let left = try await watcher.next("user_left")
        #expect(left["user"] == "piper")
        #expect(left["reason"] == nil)
        #expect(try await cli.exitStatus() == 0)
        #expect(cli.stdout.contains("[fresh] piper: second line"))
        await server.stop()
    }

    @Test func aBadFlagExits64() async throws {
        let cli = try ChildProcess("actor-chat-cli", ["join", "lobby", "--colour"])
        #expect(try await cli.exitStatus() == 64)
        #expect(cli.stderr.hasPrefix("error: unknown option '--colour'"))
    }
}
