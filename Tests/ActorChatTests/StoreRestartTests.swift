import Foundation
import Glibc
import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol
@testable import ActorChatStore

/// The real server as a child process on a store in a temporary directory: stopped with SIGTERM or
/// killed with `kill -9` mid-load, then started again on the same directory.
@Suite struct StoreRestartTests {
    /// Logs in, joins `room` (creating it with `limit` when asked) and returns the client.
    private func member(_ server: ServerProcess, _ name: String, in room: String, since: Int? = nil) async throws -> (ChatClient, ServerFrame) {
        let client = try await server.client(name)
        var params: JSONObject = ["room": .string(room)]
        if let since { params["since"] = .number(String(since)) }
        let joined = try await client.request("join", params)
        return (client, joined)
    }

    /// Every message of `room` the store keeps, oldest first, paged back with `history`.
    private func history(_ client: ChatClient, _ room: String) async throws -> [Int] {
        var seqs: [Int] = []
        var before: Int?
        while true {
            var params: JSONObject = ["room": .string(room), "limit": .number("200")]
            if let before { params["before"] = .number(String(before)) }
            let page = try await client.request("history", params)
            let messages = (page["messages"]?.array ?? []).compactMap { $0.object?["seq"]?.integer }
            seqs = messages + seqs
            guard page["more"] == .bool(true), let first = messages.first else { return seqs }
            before = first
        }
    }

    @Test(arguments: [SIGTERM, SIGKILL])
    func whatAnyClientSawSurvivesARestart(signal: Int32) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var server = try await ServerProcess.start(["--data-dir", directory.path, "--rate-limit", "100000", "--rate-burst", "100000"])
        let (watcher, _) = try await member(server, "watcher", in: "lobby")
        let (sender, _) = try await member(server, "sender", in: "lobby")
        // Sends without waiting for each reply, so the kill lands while messages are in flight.
        for index in 1...300 { sender.send("send", ["room": "lobby", "text": .string("m\(index)")], id: .number(String(index))) }
        var seen: [Int] = []
        while seen.count < 100 { seen.append(try await watcher.next("message")["seq"]?.integer ?? -1) }
        server.child.signal(signal)
        _ = try await server.child.exitStatus()
        // Whatever arrived after the first hundred before the end counts too.
        seen += watcher.queuedFrames.filter { $0.event == "message" }.compactMap { $0["seq"]?.integer }

        // A replay limit far below what is stored: history still reaches back to the first message.
        server = try await ServerProcess.start(["--data-dir", directory.path, "--replay-limit", "10"])
        let (reader, joined) = try await member(server, "reader", in: "lobby")
        let stored = try await history(reader, "lobby")
        #expect(stored == Array(1...(stored.last ?? 0)), "the stored seqs run from 1 without a gap")
        #expect(Set(seen).isSubset(of: Set(stored)), "every message a client saw is stored")
        #expect(joined["seq"]?.integer == stored.last)
        let sent = try await reader.request("send", ["room": "lobby", "text": "after the restart"])
        #expect(sent["seq"]?.integer == (stored.last ?? 0) + 1, "new seqs continue above the stored ones")
        if signal == SIGTERM { #expect(stored.count == 300, "a graceful stop commits everything it accepted") }
        try await server.stop()
    }

    @Test func roomsAndResumeSurviveARestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var server = try await ServerProcess.start(["--data-dir", directory.path])
        let owner = try await server.client("owner")
        try await owner.request("create_room", ["room": "dev", "limit": .number("7")])
        try await owner.request("join", ["room": "dev"])
        for index in 1...5 { try await owner.request("send", ["room": "dev", "text": .string("before \(index)")]) }
        try await server.stop()

        server = try await ServerProcess.start(["--data-dir", directory.path])
        let rooms = try await (try await server.client("looker")).request("rooms")
        #expect(rooms["rooms"]?.array?.contains(.object(["name": "dev", "limit": .number("7"), "count": .number("0")])) == true)
        // A client that saw up to seq 2 resumes: 3, 4 and 5 are replayed, then live messages follow.
        let (resumer, joined) = try await member(server, "resumer", in: "dev", since: 2)
        #expect(joined["seq"]?.integer == 5)
        for seq in 3...5 {
            let message = try await resumer.next("message")
            #expect(message["seq"]?.integer == seq)
            #expect(message["replay"] == .bool(true))
        }
        let (talker, _) = try await member(server, "talker", in: "dev")
        try await talker.request("send", ["room": "dev", "text": "live"])
        let live = try await resumer.next("message")
        #expect(live["seq"]?.integer == 6)
        #expect(live["replay"] == nil)
        try await server.stop()
    }

    /// Accounts, sessions and revocations are durable: after `kill -9` the password and a live
    /// session still log in, and a revoked session stays revoked.
    @Test func accountsAndSessionsSurviveAKill() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var server = try await ServerProcess.start(["--data-dir", directory.path])
        let registrar = try await server.client()
        try await registrar.request("register", ["name": "Olga", "password": "a long enough password"])
        func login(_ params: JSONObject) async throws -> ServerFrame {
            try await server.client().request("login", params)
        }
        let kept = try #require(try await login(["name": "olga", "password": "a long enough password"])["session"]?.string)
        let revoked = try await server.client()
        let revokedSession = try #require(try await revoked.request("login", ["name": "olga", "password": "a long enough password"])["session"]?.string)
        try await revoked.request("logout")
        server.child.signal(SIGKILL)
        _ = try await server.child.exitStatus()

        // On disk: the password only as a yescrypt PHC string, a session only as its SHA-256.
        let file = try SQLiteDatabase(path: directory.path + "/actor-chat.sqlite3")
        let hash = try SQLiteStatement("SELECT password FROM accounts", in: file)
        try hash.bind([])
        #expect(try hash.step() && hash.text(0).hasPrefix("$y$") && !hash.text(0).contains("a long enough password"))
        let digests = try SQLiteStatement("SELECT digest FROM sessions", in: file)
        try digests.bind([])
        var stored: [String] = []
        while try digests.step() { stored.append(digests.text(0)) }
        #expect(stored.contains(SessionToken.digest(kept)) && !stored.contains(kept))

        server = try await ServerProcess.start(["--data-dir", directory.path])
        let welcome = try await login(["name": "olga", "session": .string(kept)])
        #expect(welcome["session"]?.string == kept)
        #expect(welcome["user"]?.object?["name"] == "Olga")
        await expectError("auth_failed") { _ = try await login(["name": "olga", "session": .string(revokedSession)]) }
        await expectError("auth_failed") { _ = try await server.client("olga") }
        #expect(try await login(["name": "olga", "password": "a long enough password"])["session"]?.string != nil)
        try await server.stop()
    }

    /// A room's owner, its moderators and its bans survive `kill -9`.
    @Test func ownersModeratorsAndBansSurviveAKill() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var server = try await ServerProcess.start(["--data-dir", directory.path])
        func account(_ name: String) async throws -> ChatClient {
            let client = try await server.client()
            try await client.request("login", ["name": .string(name), "password": "a long enough password"])
            return client
        }
        let registrar = try await server.client()
        for name in ["uma", "val"] { try await registrar.request("register", ["name": .string(name), "password": "a long enough password"]) }
        let uma = try await account("uma")
        try await uma.request("create_room", ["room": "keep", "limit": .number("5")])
        try await uma.request("op", ["room": "keep", "user": "val"])
        try await uma.request("ban", ["room": "keep", "user": "rex"])
        try await uma.request("create_room", ["room": "hidden", "limit": .number("1"), "private": .bool(true)])
        try await uma.request("join", ["room": "hidden"])
        try await uma.request("invite", ["room": "hidden", "user": "val"])
        server.child.signal(SIGKILL)
        _ = try await server.child.exitStatus()

        server = try await ServerProcess.start(["--data-dir", directory.path])
        let rex = try await server.client("rex")
        await expectError("banned") { try await rex.request("join", ["room": "keep"]) }
        let val = try await account("val")
        #expect(try await val.request("join", ["room": "keep"])["roles"] == .object(["val": "op"]))
        await expectError("forbidden") { try await val.request("close_room", ["room": "keep"]) }
        // The private room is still private, and val's invite still lets val in, past its limit.
        await expectError("room_not_found") { try await rex.request("who", ["room": "hidden"]) }
        #expect(try await val.request("join", ["room": "hidden"])["room"]?.object?["private"] == .bool(true))
        let owner = try await account("uma")
        #expect(try await owner.request("close_room", ["room": "keep"]).event == "room_closed")
        try await server.stop()
    }

    /// A store written by the first schema (messages clustered by room) is migrated at start:
    /// rooms, history and seqs carry on, and the file is at the current version.
    @Test func aStoreOfTheFirstSchemaIsMigrated() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/actor-chat.sqlite3"
        do {
            let old = try SQLiteDatabase(path: file, create: true)
            try old.execute("PRAGMA journal_mode = WAL")
            try old.execute(StoreSchema.migrations[0])
            try old.execute("PRAGMA user_version = 1")
            try old.execute("INSERT INTO rooms VALUES (1, 'Old', 'old', 5, NULL, 1700000000000, 1)")
            for seq in 1...120 {
                try old.execute("INSERT INTO messages VALUES (1, \(seq), 'ann', 'said \(seq)', \(1_700_000_000_000 + seq))")
            }
        }
        let server = try await ServerProcess.start(["--data-dir", directory.path, "--replay-limit", "10"])
        let (client, joined) = try await member(server, "reader", in: "Old")
        #expect(joined["seq"]?.integer == 120)
        #expect(try await history(client, "Old") == Array(1...120))
        let page = try await client.request("history", ["room": "Old", "limit": .number("2"), "before": .number("60")])
        #expect(page["messages"]?.array?.compactMap { $0.object?["text"]?.string } == ["said 58", "said 59"])
        #expect(try await client.request("send", ["room": "Old", "text": "new"])["seq"]?.integer == 121)
        try await server.stop()
        let migrated = try SQLiteDatabase(path: file)
        #expect(try migrated.integer("PRAGMA user_version") == Int64(StoreSchema.version))
        #expect(try migrated.integer("SELECT count(*) FROM sqlite_master WHERE name = 'messages_by_room'") == 0)
        #expect(try migrated.integer("SELECT count(*) FROM message_index") == 121)
    }

    @Test func aSecondServerOnTheSameDirectoryIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try await ServerProcess.start(["--data-dir", directory.path])
        let second = try ChildProcess("actor-chat-server", ["--host", "127.0.0.1", "--port", "0", "--data-dir", directory.path])
        #expect(try await second.exitStatus() != 0)
        #expect(second.stderr.contains("actor-chat.lock is locked"))
        try await first.expectAlive()
        try await first.stop()
    }

    @Test(arguments: ["not a database at all, just some text that is long enough to fill a header" + String(repeating: "!", count: 200), ""])
    func aStoreThatCannotBeReadIsRefused(content: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/actor-chat.sqlite3"
        if content.isEmpty {
            // A store written by a newer server: a schema version this one does not know.
            let server = try await ServerProcess.start(["--data-dir", directory.path])
            try await server.stop()
            try SQLiteDatabase(path: file).execute("PRAGMA user_version = 99")
        } else {
            try Data(content.utf8).write(to: URL(fileURLWithPath: file))
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        let server = try ChildProcess("actor-chat-server", ["--host", "127.0.0.1", "--port", "0", "--data-dir", directory.path])
        #expect(try await server.exitStatus() != 0)
        #expect(server.stderr.contains(file), "the error names the file")
        #expect(!server.stdout.contains("listening on"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before, "the damaged store is left as it was")
    }
}
