import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// Every event and every error code of docs/PROTOCOL.md, over real loopback sockets.
@Suite struct ServerProtocolTests {
    @Test func pingWorksBeforeLoginAndEchoesTheID() async throws {
        let server = try await TestServer.start()
        let client = try await server.client()
        client.send("ping", id: .string("p-1"))
        let pong = try await client.next()
        #expect(pong.event == "pong")
        #expect(pong.id == .string("p-1"))
        client.send("ping")
        #expect(try await client.next().id == nil)
        await server.stop()
    }

    @Test func loginWelcomesWithUserAndRooms() async throws {
        let server = try await TestServer.start()
        let client = try await server.client()
        let welcome = try await client.login("alice")
        #expect(welcome.event == "welcome")
        let user = try #require(welcome["user"]?.object)
        #expect(user["name"] == "alice")
        #expect(user["admin"] == .bool(false))
        #expect(user["id"]?.integer != nil)
        #expect(welcome["rooms"]?.array?.first?.object?["name"] == "lobby")
        await server.stop()
    }

    @Test func everythingButLoginPingAndLogoutNeedsALogin() async throws {
        let server = try await TestServer.start()
        let client = try await server.client()
        for event in ["rooms", "create_room", "join", "leave", "who", "send", "dm", "close_room", "kick", "logs", "stats"] {
            await expectError("not_logged_in") { try await client.request(event, ["room": "lobby"]) }
        }
        try await client.request("ping")
        await server.stop()
    }

    @Test func loginErrors() async throws {
        let server = try await TestServer.start()
        let alice = try await server.client("alice")
        await expectError("already_logged_in") { try await alice.login("alice2") }
        let other = try await server.client()
        await expectError("name_taken") { try await other.login("ALICE") }
        await expectError("invalid_name") { try await other.login("al ice") }
        await expectError("invalid_name") { try await other.login(String(repeating: "x", count: 33)) }
        await expectError("invalid_params") { try await other.request("login", ["name": .number("5")]) }
        await expectError("invalid_params") { try await other.request("login") }
        await expectError("forbidden") { try await other.login("mallory", token: "wrong") }
        let admin = try await other.login("root", token: "sesame")
        #expect(admin["user"]?.object?["admin"] == .bool(true))
        await server.stop()
    }

    @Test func concurrentLoginsWithOneNameHaveExactlyOneWinner() async throws {
        let server = try await TestServer.start()
        for round in 0..<5 {
            let clients = try await withThrowingTaskGroup(of: ChatClient.self) { group in
                for _ in 0..<8 { group.addTask { try await server.client() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = await withTaskGroup(of: Bool.self) { group in
                for (index, client) in clients.enumerated() {
                    group.addTask { (try? await client.login(index % 2 == 0 ? "Same\(round)" : "same\(round)")) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            clients.forEach { $0.close() }
        }
        await server.stop()
    }

    @Test func roomsCreateJoinWhoLeave() async throws {
        let server = try await TestServer.start()
        let alice = try await server.client("alice")
        let bob = try await server.client("bob")
        let created = try await alice.request("create_room", ["room": "Dev", "limit": .number("2")])
        #expect(created.event == "room_created")
        #expect(created["room"]?.object?["limit"]?.integer == 2)
        let seenByBob = try await bob.next("room_created")
        #expect(seenByBob.id == nil)
        let list = try await bob.request("rooms")
        #expect(list["rooms"]?.array?.compactMap { $0.object?["name"]?.string } == ["Dev", "lobby"])

        let joined = try await alice.request("join", ["room": "dev"])
        #expect(joined["room"]?.object?["name"] == "Dev")
        #expect(joined["members"] == .array(["alice"]))
        try await bob.request("join", ["room": "DEV"])
        let notice = try await alice.next("user_joined")
        #expect(notice["user"] == "bob")
        #expect(notice["room"] == "Dev")

        let who = try await bob.request("who", ["room": "Dev"])
        #expect(who.event == "members")
        #expect(who["limit"]?.integer == 2)
        #expect(who["members"] == .array(["alice", "bob"]))

        let left = try await bob.request("leave", ["room": "Dev"])
        #expect(left.event == "left")
        let gone = try await alice.next("user_left")
        #expect(gone["user"] == "bob")
        #expect(gone["reason"] == nil)
        await server.stop()
    }

    /// The room list is kept encoded between changes: every kind of change must reach it.
    @Test func roomListCountsFollowEveryChange() async throws {
        let server = try await TestServer.start()
        let owner = try await server.client("owner")
        let ann = try await server.client("ann")
        let bob = try await server.client("bob")
        func rooms(_ frame: ServerFrame) -> [String] {
            (frame["rooms"]?.array ?? []).compactMap { room in
                guard let room = room.object, let name = room["name"]?.string, let count = room["count"]?.integer else { return nil }
                return "\(name) \(count)"
            }
        }
        try await owner.request("create_room", ["room": "mid", "limit": .number("5")])
        try await owner.request("create_room", ["room": "Alpha", "limit": .number("3")])
        try await ann.request("join", ["room": "mid"])
        try await bob.request("join", ["room": "mid"])
        try await owner.request("join", ["room": "alpha"])
        #expect(rooms(try await ann.request("rooms")) == ["Alpha 1", "lobby 0", "mid 2"])

        try await ann.request("leave", ["room": "mid"])
        try await owner.request("kick", ["room": "mid", "user": "bob"])
        try await bob.request("join", ["room": "Alpha"])
        #expect(rooms(try await ann.request("rooms")) == ["Alpha 2", "lobby 0", "mid 0"])

        bob.close()
        _ = try await owner.next("user_left", with: ["reason": "disconnected"])
        let carol = try await server.client()
        #expect(rooms(try await carol.login("carol")) == ["Alpha 1", "lobby 0", "mid 0"])

        try await owner.request("close_room", ["room": "Alpha"])
        #expect(rooms(try await carol.request("rooms")) == ["lobby 0", "mid 0"])
        await server.stop()
    }

    @Test func roomErrors() async throws {
        let server = try await TestServer.start { $0.rooms.maxRoomLimit = 50 }
        let alice = try await server.client("alice")
        await expectError("invalid_room") { try await alice.request("create_room", ["room": "no spaces", "limit": .number("5")]) }
        await expectError("invalid_room") { try await alice.request("create_room", ["room": .string(String(repeating: "r", count: 65)), "limit": .number("5")]) }
        for limit in ["0", "51", "-1", "1.5", "1e2", "99999999999999999999"] {
            await expectError("invalid_limit") { try await alice.request("create_room", ["room": "r", "limit": .number(limit)]) }
        }
        await expectError("invalid_limit") { try await alice.request("create_room", ["room": "r", "limit": "5"]) }
        await expectError("invalid_params") { try await alice.request("create_room", ["room": "r"]) }
        await expectError("room_exists") { try await alice.request("create_room", ["room": "LOBBY", "limit": .number("5")]) }
        await expectError("room_not_found") { try await alice.request("join", ["room": "nowhere"]) }
        await expectError("room_not_found") { try await alice.request("who", ["room": "nowhere"]) }
        await expectError("not_member") { try await alice.request("leave", ["room": "lobby"]) }
        await expectError("not_member") { try await alice.request("send", ["room": "lobby", "text": "hi"]) }
        try await alice.request("join", ["room": "lobby"])
        await expectError("already_member") { try await alice.request("join", ["room": "lobby"]) }
        await expectError("invalid_params") { try await alice.request("join", ["room": .number("1")]) }
        await expectError("unknown_event") { try await alice.request("dance") }
        await server.stop()
    }

    @Test func roomLimitHoldsUnderConcurrentJoins() async throws {
        let server = try await TestServer.start()
        let owner = try await server.client("owner")
        try await owner.request("create_room", ["room": "tiny", "limit": .number("3")])
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let client = try await server.client("joiner\(index)")
                    do {
                        try await client.request("join", ["room": "tiny"])
                        return "joined"
                    } catch ClientError.server(let code, _) {
                        return code
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == "joined" }.count == 3)
        #expect(results.filter { $0 == "room_full" }.count == 17)
        let who = try await owner.request("who", ["room": "tiny"])
        #expect(who["members"]?.array?.count == 3)
        await server.stop()
    }

    @Test func roomFullErrorNamesTheRoomAndLimit() async throws {
        let server = try await TestServer.start()
        let alice = try await server.client("alice")
        try await alice.request("create_room", ["room": "one", "limit": .number("1")])
        try await alice.request("join", ["room": "one"])
        let bob = try await server.client("bob")
        bob.send("join", ["room": "one"], id: .number("9"))
        let error = try await bob.next("error")
        #expect(error.errorCode == "room_full")
        #expect(error["limit"]?.integer == 1)
        #expect(error.id == .number("9"))
        await server.stop()
    }

    @Test func messagesReachEveryMemberWithSeqAndServerIdentity() async throws {
        let server = try await TestServer.start()
        let clients = try await server.members(["ann", "ben", "cat"], in: "lobby")
        let outsider = try await server.client("dan")
        let sent = try await clients[0].request("send", ["room": "lobby", "text": "hello", "from": "mallory"])
        #expect(sent.event == "sent")
        #expect(sent["seq"]?.integer == 1)
        for client in clients {
            let message = try await client.next("message")
            #expect(message["from"] == "ann")
            #expect(message["text"] == "hello")
            #expect(message["room"] == "lobby")
            #expect(message["seq"]?.integer == 1)
            #expect((message["ts"]?.integer ?? 0) > 1_700_000_000_000)
        }
        clients[1].send("send", ["room": "lobby", "text": "second"])
        #expect(try await clients[2].next("message")["seq"]?.integer == 2)
        // Without an id there is no `sent`; an outsider hears nothing.
        try await clients[1].request("ping")
        #expect(clients[1].queuedFrames.allSatisfy { $0.event == "message" })
        try await outsider.request("ping")
        #expect(outsider.queuedFrames.isEmpty)
        await server.stop()
    }

    @Test func messageTextRules() async throws {
        let server = try await TestServer.start { $0.maxTextBytes = 10 }
        let alice = try await server.client("alice")
        try await alice.request("join", ["room": "lobby"])
        for text in ["", "12345678901", "bell\u{7}", "esc\u{1B}[2J", "nul\u{0}"] {
            await expectError("invalid_params") { try await alice.request("send", ["room": "lobby", "text": .string(text)]) }
        }
        await expectError("invalid_params") { try await alice.request("send", ["room": "lobby", "text": .number("5")]) }
        try await alice.request("send", ["room": "lobby", "text": "a\tb\nc"])
        try await alice.request("send", ["room": "lobby", "text": "ééééé"])
        await server.stop()
    }

    @Test func directMessagesGoToRecipientAndSender() async throws {
        let server = try await TestServer.start()
        let alice = try await server.client("alice")
        let bob = try await server.client("bob")
        let echo = try await alice.request("dm", ["to": "BOB", "text": "psst"])
        #expect(echo.event == "dm")
        #expect(echo["to"] == "bob")
        let received = try await bob.next("dm")
        #expect(received["from"] == "alice")
        #expect(received["text"] == "psst")
        #expect(received.id == nil)
        await expectError("user_not_found") { try await alice.request("dm", ["to": "nobody", "text": "hi"]) }
        await expectError("invalid_params") { try await alice.request("dm", ["to": "bob"]) }
        await server.stop()
    }

    @Test func closeRoomByCreatorOrAdminOnly() async throws {
        let server = try await TestServer.start()
        let owner = try await server.client("owner")
        let member = try await server.client("member")
        let admin = try await server.client("boss", admin: true)
        try await owner.request("create_room", ["room": "temp", "limit": .number("5")])
        try await member.request("join", ["room": "temp"])
        await expectError("forbidden") { try await member.request("close_room", ["room": "temp"]) }
        await expectError("forbidden") { try await owner.request("close_room", ["room": "lobby"]) }
        let closed = try await owner.request("close_room", ["room": "temp"])
        #expect(closed.event == "room_closed")
        #expect(closed["by"] == "owner")
        #expect(try await member.next("room_closed")["room"] == "temp")
        #expect(try await admin.next("room_closed")["room"] == "temp")
        await expectError("room_not_found") { try await member.request("send", ["room": "temp", "text": "x"]) }
        try await admin.request("close_room", ["room": "lobby"])
        #expect(try await owner.request("rooms")["rooms"] == .array([]))
        await server.stop()
    }

    @Test func kickByCreatorOrAdmin() async throws {
        let server = try await TestServer.start()
        let owner = try await server.client("owner")
        try await owner.request("create_room", ["room": "club", "limit": .number("5")])
        try await owner.request("join", ["room": "club"])
        let victim = try await server.client("victim")
        let witness = try await server.client("witness")
        try await victim.request("join", ["room": "club"])
        try await witness.request("join", ["room": "club"])
        await expectError("forbidden") { try await witness.request("kick", ["room": "club", "user": "victim"]) }
        await expectError("user_not_found") { try await owner.request("kick", ["room": "club", "user": "ghost"]) }
        let reply = try await owner.request("kick", ["room": "club", "user": "victim"])
        #expect(reply.event == "user_left")
        #expect(reply["reason"] == "kicked")
        let kicked = try await victim.next("kicked")
        #expect(kicked["by"] == "owner")
        let seen = try await witness.next("user_left", with: ["user": "victim"])
        #expect(seen["reason"] == "kicked")
        await expectError("not_member") { try await owner.request("kick", ["room": "club", "user": "victim"]) }
        await expectError("not_member") { try await victim.request("send", ["room": "club", "text": "hey"]) }
        let admin = try await server.client("boss", admin: true)
        try await admin.request("kick", ["room": "club", "user": "witness"])
        #expect(try await witness.next("kicked")["by"] == "boss")
        let selfKick = try await owner.request("kick", ["room": "club", "user": "owner"])
        #expect(selfKick["user"] == "owner")
        #expect(owner.queuedFrames.contains { $0.event == "kicked" && $0["by"] == "owner" }, "`kicked` comes before the reply")
        await expectError("not_member") { try await owner.request("send", ["room": "club", "text": "hey"]) }
        await server.stop()
    }

    @Test func badLinesGetErrorsAndTheConnectionGoesOn() async throws {
        let server = try await TestServer.start()
        let client = try await server.client("alice")
        for line in ["not json", "[1,2]", #"{"params":{}}"#, #"{"event":"a","event":"b"}"#, "{\"event\":\"ping\"", #"{"event":"\u00ff\uD800"}"#] {
            client.sendRaw(Array((line + "\n").utf8))
            #expect(try await client.next().errorCode == "bad_frame", "\(line)")
        }
        client.sendRaw([0xFF, 0xFE, 0x0A])
        #expect(try await client.next().errorCode == "bad_frame")
        client.sendRaw(Array("\r\n   \n".utf8))
        try await client.request("ping")
        client.sendRaw(Array(#"{"event":"join","params":{"room":"lobby"},"id":5}"#.utf8) + [0x0D, 0x0A])
        #expect(try await client.next().id == .number("5"))
        await server.stop()
    }

    @Test func anOversizeLineIsAnErrorThenTheConnectionCloses() async throws {
        let server = try await TestServer.start { $0.maxLineBytes = 1024 }
        let client = try await server.client("alice")
        client.sendRaw([UInt8](repeating: 0x61, count: 5000))
        let error = try await client.next()
        #expect(error.errorCode == "frame_too_large")
        await #expect(throws: ClientError.closed) { try await client.next() }
        try await server.expectAlive()
        await server.stop()
    }

    @Test func logsAndStatsAreForAdmins() async throws {
        let server = try await TestServer.start()
        let user = try await server.client("user")
        await expectError("forbidden") { try await user.request("logs") }
        await expectError("forbidden") { try await user.request("stats") }
        let admin = try await server.client("boss", admin: true)
        let logs = try await admin.request("logs", ["limit": .number("50")])
        let lines = logs["lines"]?.array?.compactMap { $0.string } ?? []
        #expect(lines.contains { $0.contains("login user") })
        #expect(try await admin.request("logs", ["limit": .number("1")])["lines"]?.array?.count == 1)
        await expectError("invalid_params") { try await admin.request("logs", ["limit": "many"]) }
        let stats = try await admin.request("stats")
        #expect(stats["users"]?.integer == 2)
        #expect(stats["connections"]?.integer == 2)
        #expect(stats["rooms"]?.integer == 1)
        #expect(stats["disconnects"]?.object?["slow_consumer"]?.integer == 0)
        await server.stop()
    }

    @Test func logoutSaysByeAndCloses() async throws {
        let server = try await TestServer.start()
        let alice = try await server.client("alice")
        let bob = try await server.client("bob")
        try await alice.request("join", ["room": "lobby"])
        try await bob.request("join", ["room": "lobby"])
        let bye = try await alice.request("logout")
        #expect(bye.event == "bye")
        await #expect(throws: ClientError.closed) { try await alice.next("anything after bye") }
        let left = try await bob.next("user_left")
        #expect(left["user"] == "alice")
        #expect(left["reason"] == "logout")
        // The name is free again.
        _ = try await server.client("alice")
        await server.stop()
    }

    @Test func aDroppedConnectionLeavesItsRoomsOnce() async throws {
        let server = try await TestServer.start()
        let clients = try await server.members(["ann", "ben"], in: "lobby")
        try await clients[0].request("create_room", ["room": "second", "limit": .number("5")])
        try await clients[0].request("join", ["room": "second"])
        try await clients[1].request("join", ["room": "second"])
        clients[0].close()
        let first = try await clients[1].next("user_left")
        let second = try await clients[1].next("user_left")
        #expect(Set([first["room"]?.string, second["room"]?.string]) == ["lobby", "second"])
        #expect(first["reason"] == "disconnected")
        try await clients[1].request("ping")
        #expect(!clients[1].queuedFrames.contains { $0.event == "user_left" })
        try await server.expectAlive()
        await server.stop()
    }
}
