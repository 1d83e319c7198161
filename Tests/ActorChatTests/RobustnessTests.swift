import Glibc
import Foundation
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// Limits and faults against the real server binary. Each test ends with the canary and the
/// server's descriptor count back at its baseline.
@Suite struct RobustnessTests {
    @Test func slowlorisLoginsAreClosedAtTheLoginTimeout() async throws {
        let server = try await ServerProcess.start(["--login-timeout-seconds", "1"])
        let baseline = server.descriptorCount
        let login = Array(#"{"event":"login","params":{"name":"slow"}}"#.utf8)
        var trickles: [Connection] = []
        for _ in 0..<20 {
            let connection = try await server.rawConnection()
            connection.send([login[0]])
            trickles.append(connection)
        }
        // A partial line is not activity: more bytes do not buy more time.
        for connection in trickles { connection.send(Array(login[1..<10])) }
        for connection in trickles {
            let frames = try await LineReader.frames(untilClosed: connection)
            #expect(frames.map(\.errorCode) == ["timeout"])
            #expect(frames.first?["message"]?.string?.contains("log in within 1 s") == true, "the notice says how long the window was")
        }
        try await server.expectAlive()
        try await server.expectDescriptors(backTo: baseline)
        try await server.stop()
    }

    @Test func beforeLoginLinesAreShortAndFew() async throws {
        let server = try await ServerProcess.start(["--login-max-lines", "3", "--login-line-bytes", "1024"])
        let baseline = server.descriptorCount
        let long = try await server.rawConnection()
        long.send(Array(#"{"event":"ping","params":{"pad":""#.utf8) + [UInt8](repeating: 0x78, count: 2000) + Array("\"}}\n".utf8))
        #expect(try await LineReader.frames(untilClosed: long).map(\.errorCode) == ["frame_too_large"])

        let chatty = try await server.rawConnection()
        for _ in 0..<5 { chatty.send(Array("{\"event\":\"ping\"}\n".utf8)) }
        #expect(try await LineReader.frames(untilClosed: chatty).map(\.event) == ["pong", "pong", "pong", "error"])

        // After login the full line limit applies.
        let client = try await server.client("long")
        try await client.request("join", ["room": "lobby"])
        try await client.request("send", ["room": "lobby", "text": .string(String(repeating: "y", count: 3000))])
        client.close()
        try await server.expectAlive()
        try await server.expectDescriptors(backTo: baseline)
        try await server.stop()
    }

    @Test func requestsOverTheRateWaitInsteadOfFailing() async throws {
        let server = try await ServerProcess.start(["--rate-burst", "5", "--rate-limit", "40"])
        let client = try await server.client("steady")
        let start = ContinuousClock.now
        for index in 0..<25 { client.send("ping", id: .number(String(index))) }
        for index in 0..<25 { #expect(try await client.next("pong").id == .number(String(index))) }
        // 20 requests past the burst at 40 per second cannot all be answered in under half a second.
        #expect(ContinuousClock.now - start >= .milliseconds(400))
        try await server.stop()
    }

    @Test func aFloodOverTheRateIsCutWithRetryAfter() async throws {
        let server = try await ServerProcess.start(["--rate-burst", "1", "--rate-limit", "1"])
        let baseline = server.descriptorCount
        let flood = try await server.rawConnection()
        flood.send(ClientRequest(event: "login", params: ["name": "flooder"]).encoded())
        let ping = ClientRequest(event: "ping").encoded()
        flood.send(Array([[UInt8]](repeating: ping, count: 10_000).joined()))
        let frames = try await LineReader.frames(untilClosed: flood)
        let last = try #require(frames.last)
        #expect(last.errorCode == "rate_limited")
        #expect((last["retry_after_ms"]?.integer ?? 0) > 0)
        #expect(frames.count < 10)
        try await server.expectAlive()
        try await server.expectDescriptors(backTo: baseline)
        try await server.stop()
    }

    @Test func aSilentClientIsPingedThenTimedOutAndLeavesItsRoomsOnce() async throws {
        // Long enough that the watcher, which answers pings, is not cut on a busy machine.
        let server = try await ServerProcess.start(["--idle-ping-seconds", "1", "--idle-timeout-seconds", "1"])
        let watcher = try await server.client("watcher")
        try await watcher.request("join", ["room": "lobby"])
        let frozen = try await server.rawConnection()
        frozen.send(ClientRequest(event: "login", params: ["name": "frozen"]).encoded())
        frozen.send(ClientRequest(event: "join", params: ["room": "lobby"]).encoded())
        let frames = try await LineReader.frames(untilClosed: frozen)
        #expect(frames.map(\.event) == ["welcome", "joined", "ping", "error"])
        #expect(frames.last?.errorCode == "timeout")
        let left = try await watcher.next("user_left")
        #expect(left["user"] == "frozen")
        #expect(left["reason"] == "timeout")
        // The watcher answers pings (ChatClient does) and is still here; nobody left twice.
        try await watcher.request("ping")
        #expect(!watcher.queuedFrames.contains { $0.event == "user_left" })
        try await server.expectAlive()
        try await server.stop()
    }

    @Test func connectionLimitsSayServerFullAndRecover() async throws {
        let server = try await ServerProcess.start(["--max-connections", "6", "--max-connections-per-ip", "4"])
        var clients: [ChatClient] = []
        for index in 0..<4 { clients.append(try await server.client("user\(index)")) }
        for _ in 0..<3 {
            let refused = try await server.rawConnection()
            #expect(try await LineReader.frames(untilClosed: refused).map(\.errorCode) == ["server_full"])
        }
        clients.removeFirst().close()
        // Once one leaves, a new client is let in.
        var admitted: ChatClient?
        for _ in 0..<100 where admitted == nil {
            let candidate = try await server.client()
            admitted = (try? await candidate.request("ping")) != nil ? candidate : nil
        }
        #expect(admitted != nil)
        clients.forEach { $0.close() }
        admitted?.close()
        try await server.stop()
    }

    @Test func descriptorExhaustionDoesNotSpinAndRecovers() async throws {
        // The connection limit is set above what the descriptor limit allows, so accept really hits EMFILE.
        let server = try await ServerProcess.start(["--max-connections", "100000", "--max-connections-per-ip", "100000"], ulimit: 64)
        let baseline = server.descriptorCount
        var held: [Connection] = []
        for _ in 0..<80 { held.append(try await server.rawConnection()) }
        let paused = try await server.child.waitForOutput(containing: "accept paused", inStderr: true)
        #expect(paused.contains("Too many open files"))
        let pausesBefore = server.child.stderr.components(separatedBy: "accept paused").count
        for connection in held { connection.close(.clientClosed, flush: false) }
        held = []
        // Pending connections are accepted again once descriptors are free.
        try await server.expectAlive()
        let pauses = server.child.stderr.components(separatedBy: "accept paused").count
        // Backing off 100 ms per pause: a busy loop would log thousands.
        #expect(pauses - pausesBefore < 100)
        try await server.expectDescriptors(backTo: baseline)
        try await server.stop()
    }

    @Test func clientsKilledMidLineNeverDeliverThePartialLine() async throws {
        let server = try await ServerProcess.start()
        let baseline = server.descriptorCount
        let watcher = try await server.client("watcher")
        try await watcher.request("join", ["room": "lobby"])
        for (index, reset) in [true, false, true, false].enumerated() {
            let victim = try await server.client("victim\(index)")
            try await victim.request("join", ["room": "lobby"])
            _ = try await watcher.next("user_joined")
            victim.sendRaw(Array(#"{"event":"send","params":{"room":"lobby","text":"partial"#.utf8))
            if reset {
                var linger = linger(l_onoff: 1, l_linger: 0)
                setsockopt(victim.connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            }
            victim.connection.close(.clientClosed, flush: true)
            let left = try await watcher.next("user_left")
            #expect(left["user"] == .string("victim\(index)"))
        }
        try await watcher.request("ping")
        #expect(!watcher.queuedFrames.contains { $0.event == "message" || $0.event == "user_left" })
        watcher.close()
        try await server.expectAlive()
        try await server.expectDescriptors(backTo: baseline)
        try await server.stop()
    }

    @Test func membersResettingDuringABroadcastDoNotHurtTheRest() async throws {
        let server = try await ServerProcess.start(["--rate-burst", "100000000", "--rate-limit", "100000000", "--max-connections-per-ip", "1000"])
        let baseline = server.descriptorCount
        let sender = try await server.client("sender")
        let reader = try await server.client("reader")
        try await sender.request("join", ["room": "lobby"])
        try await reader.request("join", ["room": "lobby"])
        var doomed: [ChatClient] = []
        for index in 0..<100 {
            let client = try await server.client("doomed\(index)")
            try await client.request("join", ["room": "lobby"])
            doomed.append(client)
        }
        let total = 2000
        for index in 0..<total {
            sender.send("send", ["room": "lobby", "text": .string("m\(index)")])
            if index == total / 4 {
                for client in doomed {
                    var linger = linger(l_onoff: 1, l_linger: 0)
                    setsockopt(client.connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
                    client.connection.close(.clientClosed, flush: false)
                }
            }
        }
        var seqs: [Int] = []
        while seqs.count < total { seqs.append(try await reader.next("message")["seq"]?.integer ?? -1) }
        #expect(seqs == Array(1...total))
        doomed = []
        sender.close()
        reader.close()
        try await server.expectAlive()
        try await server.expectDescriptors(backTo: baseline)
        try await server.stop()
    }

    @Test func aClientThatAcceptsNoOutputIsCutAtTheWriteStallLimit() async throws {
        // The output limit is far away, so only the stall rule can cut the sluggard.
        let server = try await ServerProcess.start([
            "--write-stall-seconds", "0.5", "--output-limit-bytes", "268435456", "--rate-burst", "100000000", "--rate-limit", "100000000",
        ])
        let baseline = server.descriptorCount
        // The watcher sits in a quiet room the sluggard is also in; the flood comes from a sender
        // that throws its own input away, so nobody but the sluggard stops reading.
        let watcher = try await server.client("watcher")
        try await watcher.request("create_room", ["room": "quiet", "limit": .number("5")])
        try await watcher.request("join", ["room": "quiet"])
        var limits = ConnectionLimits()
        limits.inboundBytes = 4096
        let sluggard = try await server.rawConnection(limits: limits)
        try Socket.setOption(sluggard.fd, SOL_SOCKET, SO_RCVBUF, 4096)
        sluggard.send(ClientRequest(event: "login", params: ["name": "stalled"]).encoded())
        sluggard.send(ClientRequest(event: "join", params: ["room": "quiet"]).encoded())
        sluggard.send(ClientRequest(event: "join", params: ["room": "lobby"]).encoded())
        _ = try await watcher.next("user_joined")
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: server.port)[0]
        var senderLimits = ConnectionLimits()
        senderLimits.outboundBytes = 64 << 20
        let sender = try await EventLoop.shared.connect(to: address, limits: senderLimits) { _ in }
        sender.send(ClientRequest(event: "login", params: ["name": "flooder"]).encoded())
        sender.send(ClientRequest(event: "join", params: ["room": "lobby"]).encoded())
        // Enough to fill the kernel's buffers (a few MB on loopback), then silence.
        let line = ClientRequest(event: "send", params: ["room": "lobby", "text": .string(String(repeating: "z", count: 4000))]).encoded()
        for _ in 0..<3000 { sender.send(line) }
        let left = try await watcher.next("user_left", timeout: .seconds(30), with: ["user": "stalled"])
        #expect(left["reason"] == "slow_consumer")
        watcher.close()
        sender.close(.clientClosed, flush: false)
        sluggard.close(.clientClosed, flush: false)
        try await server.expectAlive()
        try await server.expectDescriptors(backTo: baseline)
        try await server.stop()
    }

    @Test func sigtermMidBroadcastFlushesQueuedOutputAndExitsZero() async throws {
        let server = try await ServerProcess.start(["--rate-burst", "100000000", "--rate-limit", "100000000"])
        let sender = try await server.client("sender")
        let reader = try await server.client("reader")
        try await sender.request("join", ["room": "lobby"])
        try await reader.request("join", ["room": "lobby"])
        let total = 3000
        for index in 1..<total { sender.send("send", ["room": "lobby", "text": .string("m\(index)")]) }
        try await sender.request("send", ["room": "lobby", "text": "last"])
        server.child.signal(SIGTERM)
        var seqs: [Int] = []
        while seqs.count < total { seqs.append(try await reader.next("message")["seq"]?.integer ?? -1) }
        #expect(seqs == Array(1...total))
        #expect(try await reader.next("server_shutdown").event == "server_shutdown")
        #expect(try await server.child.exitStatus() == 0)
    }
}
