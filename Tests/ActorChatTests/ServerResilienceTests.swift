import Glibc
import Synchronization
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// A client that never reads, disconnects mid-room, and graceful shutdown.
@Suite struct ServerResilienceTests {
    /// The output limit is for clients that fall behind, not for the size of an answer: a member
    /// list longer than the limit reaches a client that reads it.
    @Test func aReplyLargerThanTheOutputLimitReachesAClientThatReads() async throws {
        let server = try await TestServer.start { $0.outboundLimitBytes = 1024 }
        for index in 0..<50 {
            let member = try await server.client("member-\(index)-" + String(repeating: "x", count: 20))
            try await member.request("join", ["room": "lobby"])
        }
        let joiner = try await server.client("the-last-one-to-join")
        let joined = try await joiner.request("join", ["room": "lobby"])
        #expect(joined["members"]?.array?.count == 51)
        let who = try await joiner.request("who", ["room": "lobby"])
        #expect(who["members"]?.array?.count == 51)
        #expect((who["members"]?.array ?? []).compactMap(\.string).joined().utf8.count > 1024)
        let admin = try await server.client("boss", admin: true)
        let stats = try await admin.request("stats")
        #expect(stats["disconnects"]?.object?["slow_consumer"]?.integer == 0)
        try await server.expectAlive()
        await server.stop()
    }

    @Test func aClientThatNeverReadsIsCutWhileTheOthersReceiveEverything() async throws {
        let server = try await TestServer.start {
            $0.outboundLimitBytes = 128 << 10
            $0.unlimitedRate()
        }
        let clients = try await server.members(["sender", "reader"], in: "lobby")
        // The sluggard's own side stops reading at its 64 KiB inbound limit; with a small receive
        // buffer the kernel soon fills too, and the server must cut it rather than queue forever.
        var limits = ConnectionLimits()
        limits.inboundBytes = 4096
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: server.port)[0]
        let raw = try await EventLoop.shared.connect(to: address, limits: limits)
        try Socket.setOption(raw.fd, SOL_SOCKET, SO_RCVBUF, 4096)
        raw.send(ClientRequest(event: "login", params: ["name": "sluggard"]).encoded())
        raw.send(ClientRequest(event: "join", params: ["room": "lobby"], id: .number("1")).encoded())
        _ = try await clients[1].next("user_joined", with: ["user": "sluggard"])

        // Keep the room busy until the server cuts the sluggard (the kernel's buffers absorb a few MB first).
        let text = JSONValue.string(String(repeating: "x", count: 4000))
        let (sender, reader) = (clients[0], clients[1])
        let cut = Atomic<Bool>(false)
        let collected = Task {
            var seqs: [Int] = []
            while true {
                let frame = try await reader.next(timeout: .seconds(20))
                if frame.event == "message" { seqs.append(frame["seq"]?.integer ?? -1) }
                if frame["text"] == "after the cut" { return seqs }
                if frame.event == "user_left", frame["user"] == "sluggard" {
                    #expect(frame["reason"] == "slow_consumer")
                    cut.store(true, ordering: .sequentiallyConsistent)
                }
            }
        }
        var sent = 0
        while !cut.load(ordering: .sequentiallyConsistent) && sent < 12_000 {
            for _ in 0..<99 { sender.send("send", ["room": "lobby", "text": text]) }
            try await sender.request("send", ["room": "lobby", "text": text])
            sent += 100
        }
        let wasCut = cut.load(ordering: .sequentiallyConsistent)
        #expect(wasCut, "the sluggard was never cut")
        try await sender.request("send", ["room": "lobby", "text": "after the cut"])
        sent += 1
        #expect(try await collected.value == Array(1...sent))
        let admin = try await server.client("boss", admin: true)
        let stats = try await admin.request("stats")
        #expect(stats["disconnects"]?.object?["slow_consumer"]?.integer == 1)
        try await server.expectAlive()
        await server.stop()
    }

    @Test func shutdownFlushesQueuedOutputThenSaysServerShutdownToEveryone() async throws {
        let server = try await TestServer.start { $0.unlimitedRate() }
        let clients = try await server.members(["sender", "reader"], in: "lobby")
        let idle = try await server.client()
        let count = 300
        for index in 1..<count { clients[0].send("send", ["room": "lobby", "text": .string("m\(index)")]) }
        try await clients[0].request("send", ["room": "lobby", "text": "last"])
        await server.stop()
        for index in 1...count {
            let message = try await clients[1].next("message")
            #expect(message["seq"]?.integer == index)
        }
        #expect(try await clients[1].next().event == "server_shutdown")
        await #expect(throws: ClientError.closed) { try await clients[1].next() }
        #expect(try await idle.next("server_shutdown").event == "server_shutdown")
        await #expect(throws: ClientError.closed) { try await idle.next("anything") }
    }

    @Test func shutdownIsIdempotentAndFinal() async throws {
        let server = try await TestServer.start()
        await server.stop()
        await server.server.shutdown()
        await #expect(throws: ServerError.self) { try await server.server.start() }
    }

    @Test func manyClientsComeAndGoWithoutLeakingMembership() async throws {
        let server = try await TestServer.start()
        let watcher = try await server.client("watcher")
        try await watcher.request("join", ["room": "lobby"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let client = try await server.client("visitor\(index)")
                    try await client.request("join", ["room": "lobby"])
                    try await client.request("send", ["room": "lobby", "text": "hi"])
                    if index % 2 == 0 { client.close() } else { try await client.request("logout") }
                }
            }
            try await group.waitForAll()
        }
        for _ in 0..<40 { _ = try await watcher.next("user_left") }
        let who = try await watcher.request("who", ["room": "lobby"])
        #expect(who["members"] == .array(["watcher"]))
        try await server.expectAlive()
        await server.stop()
    }
}
