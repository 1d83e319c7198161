import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol
@testable import ActorChatStore

/// History, replay and resume against a real server in this process, on a store in a temporary
/// directory (or none, where the test says so).
@Suite struct HistoryTests {
    private func start(_ directory: TemporaryDirectory?, _ configure: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await TestServer.start { configuration in
            configuration.dataDirectory = directory?.path
            configuration.unlimitedRate()
            configure(&configuration)
        }
    }

    private func seqs(_ frames: [ServerFrame]) -> [Int] {
        frames.compactMap { $0["seq"]?.integer }
    }

    private func page(_ client: ChatClient, _ room: String, before: Int? = nil, limit: Int) async throws -> (seqs: [Int], more: Bool) {
        var params: JSONObject = ["room": .string(room), "limit": .number(String(limit))]
        if let before { params["before"] = .number(String(before)) }
        let reply = try await client.request("history", params)
        return ((reply["messages"]?.array ?? []).compactMap { $0.object?["seq"]?.integer }, reply["more"] == .bool(true))
    }

    @Test(arguments: [true, false])
    func aResumePastTheReplayLimitReportsTheGapAndHistoryPagesBack(stored: Bool) async throws {
        let directory = stored ? try TemporaryDirectory() : nil
        defer { directory?.remove() }
        let server = try await start(directory) { $0.rooms.replayLimit = 5 }
        let sender = try await server.client("sender")
        try await sender.request("join", ["room": "lobby"])
        for index in 1...12 { try await sender.request("send", ["room": "lobby", "text": .string("m\(index)")]) }

        let resumer = try await server.client("resumer")
        let joined = try await resumer.request("join", ["room": "lobby", "since": .number("2")])
        #expect(joined["seq"]?.integer == 12)
        let gap = try await resumer.nextUnsolicited()
        #expect(gap.event == "history_gap")
        #expect(gap["from"]?.integer == 3 && gap["to"]?.integer == 7)
        var replayed: [ServerFrame] = []
        for _ in 8...12 { replayed.append(try await resumer.next("message")) }
        #expect(seqs(replayed) == Array(8...12))
        #expect(replayed.allSatisfy { $0["replay"] == .bool(true) })

        #expect(try await page(resumer, "lobby", limit: 3) == ([10, 11, 12], true))
        if stored {
            #expect(try await page(resumer, "lobby", before: 10, limit: 200) == (Array(1...9), false))
        } else {
            // Without a store, history is what the replay ring holds.
            #expect(try await page(resumer, "lobby", before: 10, limit: 200) == ([8, 9], false))
        }
        await server.stop()
    }

    @Test func joinWithHistoryReplaysTheNewestMessages() async throws {
        let server = try await start(nil)
        let sender = try await server.client("sender")
        try await sender.request("join", ["room": "lobby"])
        for index in 1...4 { try await sender.request("send", ["room": "lobby", "text": .string("m\(index)")]) }
        let reader = try await server.client("reader")
        try await reader.request("join", ["room": "lobby", "history": .number("2")])
        let replayed = [try await reader.next("message"), try await reader.next("message")]
        #expect(seqs(replayed) == [3, 4])
        await expectError("invalid_params") { try await reader.request("join", ["room": "lobby", "history": .number("1"), "since": .number("1")]) }
        await expectError("not_member") { try await (try await server.client("outsider")).request("history", ["room": "lobby"]) }
        await server.stop()
    }

    @Test func replayThenLiveIsGapFreeWhileOthersSend() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await start(directory)
        let senders = try await server.members(["s1", "s2", "s3"], in: "lobby")
        let perSender = 150
        let sending = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, sender) in senders.enumerated() {
                    group.addTask {
                        for count in 1...perSender { try await sender.request("send", ["room": "lobby", "text": .string("\(index)-\(count)")]) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let watcher = try await server.client("watcher")
        try await watcher.request("join", ["room": "lobby"])
        // Resume from wherever the room is once some messages have gone by, while the senders go on.
        let seen = try await watcher.next("message")["seq"]?.integer ?? 0
        let resumer = try await server.client("resumer")
        try await resumer.request("join", ["room": "lobby", "since": .number(String(seen))])
        try await sending.value
        var received: [Int] = []
        while received.last != perSender * 3 { received.append(try await resumer.next("message")["seq"]?.integer ?? -1) }
        #expect(received == Array((seen + 1)...(perSender * 3)), "replayed and live messages join without a gap or a double")
        await server.stop()
    }

    @Test func aFailedWriteIsUnavailableAndTheStoreRecovers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await start(directory)
        let store = try #require(await server.server.services.rooms.store)
        let (watcher, sender) = (try await server.client("watcher"), try await server.client("sender"))
        try await watcher.request("join", ["room": "lobby"])
        try await sender.request("join", ["room": "lobby"])
        store.limitPages(1)
        let text = JSONValue.string(String(repeating: "x", count: 4000))
        var stored = 0
        var refused = false
        for _ in 1...100 {
            do {
                stored = try await sender.request("send", ["room": "lobby", "text": text])["seq"]?.integer ?? -1
            } catch ClientError.server(let code, _) {
                #expect(code == "unavailable")
                refused = true
                break
            }
        }
        #expect(refused, "a full store refuses the send")
        // Everything that needs no write goes on.
        try await sender.request("ping")
        try await sender.request("who", ["room": "lobby"])
        store.limitPages(nil)
        let next = try await sender.request("send", ["room": "lobby", "text": "after"])
        #expect(next["seq"]?.integer == stored + 1, "the refused message used no seq")
        var delivered: [Int] = []
        while delivered.last != stored + 1 { delivered.append(try await watcher.next("message")["seq"]?.integer ?? -1) }
        #expect(delivered == Array(1...(stored + 1)), "nothing unstored was broadcast")
        await server.stop()
    }

    @Test func retentionKeepsTheNewestMessages() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await start(directory) { $0.rooms.historyLimit = 10 }
        let sender = try await server.client("sender")
        try await sender.request("join", ["room": "lobby"])
        for index in 1...200 { try await sender.request("send", ["room": "lobby", "text": .string("m\(index)")]) }
        #expect(try await page(sender, "lobby", limit: 200) == (Array(191...200), false))
        let resumer = try await server.client("resumer")
        try await resumer.request("join", ["room": "lobby", "since": .number("0")])
        let gap = try await resumer.nextUnsolicited()
        #expect(gap.event == "history_gap" && gap["from"]?.integer == 1 && gap["to"]?.integer == 190)
        await server.stop()
        // Pruned on disk too, within the slack that lets pruning delete in batches.
        let database = try SQLiteDatabase(path: directory.path + "/" + ChatStore.fileName)
        #expect(try database.integer("SELECT count(*) FROM messages") <= 10 + WriterSession.pruneSlack(10))
    }

    /// The store indexes messages in bulk; those past the index (the tail) are found by rowid. With
    /// an index every 7 messages and a ring of 2, pages read from the store cross the seam between
    /// the two, and closing the room deletes both.
    @Test func historyPagesAcrossTheIndexAndTheTail() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await start(directory) { configuration in
            configuration.storeIndexEvery = 7
            configuration.rooms.replayLimit = 2
        }
        let owner = try await server.client("owner")
        try await owner.request("create_room", ["room": "dev", "limit": .number("5")])
        try await owner.request("join", ["room": "dev"])
        for index in 1...40 { try await owner.request("send", ["room": "dev", "text": .string("m\(index)")]) }
        var seen: [Int] = []
        var before: Int?
        var more = true
        while more {
            let next = try await page(owner, "dev", before: before, limit: 3)
            #expect(!next.seqs.isEmpty)
            seen = next.seqs + seen
            (before, more) = (next.seqs.first, next.more)
        }
        #expect(seen == Array(1...40))
        try await owner.request("close_room", ["room": "dev"])
        await server.stop()
        let database = try SQLiteDatabase(path: directory.path + "/" + ChatStore.fileName)
        #expect(try database.integer("SELECT count(*) FROM messages") == 0)
        #expect(try database.integer("SELECT count(*) FROM message_index") == 0)
    }

    /// SQLite gives the rowids of deleted newest rows out again. Closing a room whose messages were
    /// the newest, and indexed, must not hide another room's next message from history, nor from
    /// the seqs a restart continues from.
    @Test func aClosedRoomsRowidsHideNoLaterMessage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configure: (inout ServerConfiguration) -> Void = { configuration in
            configuration.storeIndexEvery = 1
            configuration.rooms.replayLimit = 1
        }
        let server = try await start(directory, configure)
        let owner = try await server.client("owner")
        for room in ["a", "b"] {
            try await owner.request("create_room", ["room": .string(room), "limit": .number("5")])
            try await owner.request("join", ["room": .string(room)])
        }
        try await owner.request("send", ["room": "a", "text": "a1"])
        try await owner.request("send", ["room": "b", "text": "b1"])
        try await owner.request("close_room", ["room": "b"])
        try await owner.request("send", ["room": "a", "text": "a2"])
        #expect(try await page(owner, "a", limit: 10) == ([1, 2], false))
        await server.stop()

        let again = try await start(directory, configure)
        let reader = try await again.client("reader")
        #expect(try await reader.request("join", ["room": "a"])["seq"]?.integer == 2)
        #expect(try await reader.request("send", ["room": "a", "text": "a3"])["seq"]?.integer == 3)
        #expect(try await page(reader, "a", limit: 10) == ([1, 2, 3], false))
        await again.stop()
    }

    /// With no history kept, pruning still leaves each room's last seq for the next start to go on from.
    @Test func seqsGoOnAfterARestartWhenNoHistoryIsKept() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configure: (inout ServerConfiguration) -> Void = { $0.rooms.historyLimit = 0 }
        let server = try await start(directory, configure)
        let sender = try await server.client("sender")
        try await sender.request("join", ["room": "lobby"])
        // The last send is the one that takes the room over the limit: pruning then deletes up to it.
        let sent = WriterSession.pruneSlack(0) + 1
        for index in 1...sent { try await sender.request("send", ["room": "lobby", "text": .string("m\(index)")]) }
        await server.stop()
        let database = try SQLiteDatabase(path: directory.path + "/" + ChatStore.fileName)
        #expect(try database.integer("SELECT count(*) FROM messages") == 1, "pruned to the newest")

        let again = try await start(directory, configure)
        let next = try await again.client("next")
        #expect(try await next.request("join", ["room": "lobby"])["seq"]?.integer == sent)
        #expect(try await next.request("send", ["room": "lobby", "text": "after"])["seq"]?.integer == sent + 1)
        #expect(try await page(next, "lobby", limit: 10) == ([], false))
        await again.stop()
    }

    @Test func aRoomClosedAndCreatedAgainGoesOnCounting() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await start(directory)
        let owner = try await server.client("owner")
        for round in 0..<2 {
            try await owner.request("create_room", ["room": "dev", "limit": .number("5")])
            let joined = try await owner.request("join", ["room": "dev"])
            #expect(joined["seq"]?.integer == round * 3)
            for _ in 1...3 { try await owner.request("send", ["room": "dev", "text": "hi"]) }
            #expect(try await page(owner, "dev", limit: 10).seqs == Array((round * 3 + 1)...(round * 3 + 3)))
            try await owner.request("close_room", ["room": "dev"])
        }
        await server.stop()
    }

    /// `stats` reports the store: its file, size, rows and commit figures; without one, `null`.
    @Test(arguments: [true, false])
    func statsReportTheStore(stored: Bool) async throws {
        let directory = stored ? try TemporaryDirectory() : nil
        defer { directory?.remove() }
        let server = try await start(directory)
        let admin = try await server.client("boss", admin: true)
        try await admin.request("join", ["room": "lobby"])
        for index in 1...25 { try await admin.request("send", ["room": "lobby", "text": .string("m\(index)")]) }
        let store = try await admin.request("stats")["store"]
        guard let directory else {
            #expect(store == .null)
            await server.stop()
            return
        }
        let figures = try #require(store?.object)
        #expect(figures["path"]?.string == directory.path + "/" + ChatStore.fileName)
        #expect(figures["rows"]?.integer == 25)
        // Each send waited for its reply, so each had a commit of its own (the room's creation too).
        let commits = try #require(figures["commits"]?.integer)
        #expect(commits >= 25)
        #expect(try #require(figures["bytes"]?.integer) > 0)
        #expect((figures["largest_batch"]?.integer ?? 0) >= 1)
        #expect(figures["p99_commit_us"]?.integer != nil)
        if case .number(let mean)? = figures["mean_batch"] { #expect(Double(mean) ?? 0 >= 1) } else { Issue.record("no mean_batch") }
        await server.stop()
    }
}
