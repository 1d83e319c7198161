import Glibc
import Foundation
import Synchronization
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// The event loop and connections over socketpairs: no TCP, no server.
@Suite struct TransportTests {
    /// Reads from `connection` until `count` bytes have arrived or the stream ends.
    private func read(_ connection: Connection, count: Int) async throws -> [UInt8] {
        try await withDeadline(.seconds(10), waitingFor: "\(count) bytes") {
            var received: [UInt8] = []
            for await chunk in connection.inbound {
                received += chunk
                connection.didConsume(chunk.count)
                if received.count >= count { break }
            }
            return received
        }
    }

    @Test func bytesArriveInOrderAcrossManySends() async throws {
        let loop = try EventLoop(name: "test-loop")
        let (left, right) = try await loop.connectedPair()
        var expected: [UInt8] = []
        for index in 0..<2000 {
            let frame = Array("frame \(index)\n".utf8)
            expected += frame
            left.send(frame)
        }
        #expect(try await read(right, count: expected.count) == expected)
        await loop.stop()
    }

    @Test func sendsAndBroadcastsToOneConnectionKeepTheirOrder() async throws {
        let loop = try EventLoop(name: "test-loop")
        let pairs = [try await loop.connectedPair(), try await loop.connectedPair(), try await loop.connectedPair()]
        let group = BroadcastGroup(pairs.map(\.0))
        var expected: [[UInt8]] = [[], [], []]
        // Runs of broadcasts (which the loop joins) broken by direct sends to one member.
        for index in 0..<3000 {
            let frame = Array("frame \(index)\n".utf8)
            if index % 7 == 3 {
                let target = index % 3
                pairs[target].0.send(frame)
                expected[target] += frame
            } else {
                group.send(frame)
                for target in 0..<3 { expected[target] += frame }
            }
        }
        for (target, pair) in pairs.enumerated() {
            #expect(try await read(pair.1, count: expected[target].count) == expected[target])
        }
        await loop.stop()
    }

    @Test func broadcastsToMoreConnectionsThanASliceReachEveryoneInOrder() async throws {
        let loop = try EventLoop(name: "test-loop")
        var pairs: [(Connection, Connection)] = []
        // More members than the loop writes in sixteen slices, so its write queue is trimmed mid-pass.
        for _ in 0..<1500 { pairs.append(try await loop.connectedPair()) }
        let group = BroadcastGroup(pairs.map(\.0))
        var expected: [UInt8] = []
        for burst in 0..<20 {
            for index in 0..<10 {
                let frame = Array("frame \(burst).\(index)\n".utf8)
                expected += frame
                group.send(frame)
            }
            // Lets the loop start a pass before the next burst re-queues members already written.
            await Task.yield()
        }
        for pair in pairs {
            #expect(try await read(pair.1, count: expected.count) == expected)
        }
        await loop.stop()
    }

    @Test func aGroupSpanningTwoLoopsReachesEveryMember() async throws {
        let first = try EventLoop(name: "test-loop-1")
        let second = try EventLoop(name: "test-loop-2")
        let pairs = [try await first.connectedPair(), try await second.connectedPair(), try await first.connectedPair()]
        var group = BroadcastGroup(pairs.map(\.0))
        #expect(group.count == 3)
        group.send(Array("one\n".utf8))
        group.remove(pairs[0].0)
        #expect(group.count == 2)
        group.send(Array("two\n".utf8))
        #expect(try await read(pairs[0].1, count: 4) == Array("one\n".utf8))
        for pair in pairs.dropFirst() {
            #expect(try await read(pair.1, count: 8) == Array("one\ntwo\n".utf8))
        }
        await first.stop()
        await second.stop()
    }

    @Test func closeAfterFlushDeliversEverythingThenEnds() async throws {
        let loop = try EventLoop(name: "test-loop")
        let (left, right) = try await loop.connectedPair()
        let payload = [UInt8](repeating: 0x42, count: 300_000)
        left.send(payload)
        left.close(.logout)
        let received = try await withDeadline(.seconds(10), waitingFor: "the end of the stream") {
            var total: [UInt8] = []
            for await chunk in right.inbound {
                total += chunk
                right.didConsume(chunk.count)
            }
            return total
        }
        #expect(received == payload)
        #expect(left.disconnectReason == .logout)
        await loop.stop()
    }

    @Test func theLoopsThreadCarriesItsNameCutToFifteenBytes() async throws {
        let loop = try EventLoop(name: "test-loop-named-at-length")
        // The loop has registered a pair, so its thread is past naming itself.
        _ = try await loop.connectedPair()
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        #expect(names.contains("test-loop-named\n"))
        await loop.stop()
    }

    @Test func aClosedConnectionIsReleased() async throws {
        let loop = try EventLoop(name: "test-loop")
        weak var closed: Connection?
        do {
            let (left, right) = try await loop.connectedPair()
            closed = left
            left.send(Array("bye\n".utf8))
            left.close(.logout)
            // The peer sees the end of the stream when the loop shuts `left` down, in the call that tears it down.
            _ = try await withDeadline(.seconds(10), waitingFor: "the end of the stream") {
                for await chunk in right.inbound { right.didConsume(chunk.count) }
            }
        }
        // One more round trip, so the loop has finished the turn that closed it.
        let (other, peer) = try await loop.connectedPair()
        other.send([1])
        _ = try await read(peer, count: 1)
        // The loop's state and the connection refer to each other while it is registered.
        #expect(closed == nil)
        await loop.stop()
    }

    @Test func aReaderThatStopsIsCutAtTheOutboundLimit() async throws {
        let loop = try EventLoop(name: "test-loop")
        var limits = ConnectionLimits()
        limits.outboundBytes = 64 << 10
        limits.slowConsumerNotice = Array("cut\n".utf8)
        let (writer, reader) = try await loop.connectedPair(limits: limits)
        try Socket.setOption(reader.fd, SOL_SOCKET, SO_RCVBUF, 4096)
        let chunk = [UInt8](repeating: 0x41, count: 4096)
        // The reader never consumes; it pauses at its own inbound limit, the kernel buffers fill,
        // and the writer's queue must stop at the limit instead of growing.
        var sent = 0
        while writer.disconnectReason == nil && sent < 100_000 {
            writer.send(chunk)
            sent += 1
            if sent % 64 == 0 { await Task.yield() }
        }
        #expect(writer.disconnectReason == .slowConsumer)
        #expect(writer.queuedBytes <= limits.outboundBytes + chunk.count)
        await loop.stop()
    }

    @Test func readingPausesWhileTheConsumerLagsAndResumes() async throws {
        let loop = try EventLoop(name: "test-loop")
        var limits = ConnectionLimits()
        limits.inboundBytes = 16 << 10
        let (writer, reader) = try await loop.connectedPair(limits: limits)
        let total = 1 << 20
        writer.send([UInt8](repeating: 7, count: total))
        var iterator = reader.inbound.makeAsyncIterator()
        let first = try #require(await iterator.next())
        // Without consuming, the loop must stop reading near the limit, leaving the rest in the kernel.
        try await withDeadline(.seconds(10), waitingFor: "reading to pause") {
            while !reader.isReadingPaused { await Task.yield() }
        }
        #expect(reader.state.withLock { $0.inboundQueued } < limits.inboundBytes + 65536)
        var received = first.count
        reader.didConsume(first.count)
        while received < total, let chunk = await iterator.next() {
            received += chunk.count
            reader.didConsume(chunk.count)
        }
        #expect(received == total)
        await loop.stop()
    }

    @Test func stoppingTheLoopEndsEveryStreamAndRefusesLateWork() async throws {
        let loop = try EventLoop(name: "test-loop")
        let (left, right) = try await loop.connectedPair()
        await loop.stop()
        for connection in [left, right] {
            var iterator = connection.inbound.makeAsyncIterator()
            #expect(await iterator.next() == nil)
            #expect(connection.disconnectReason == .loopStopped)
        }
        left.send([1, 2, 3])
        await #expect(throws: (any Error).self) { try await loop.connectedPair() }
    }

    /// The refusal is the connect's error, and only that: a reader that never had a connection is
    /// not also told of an end (a reconnecting client would otherwise start a second attempt).
    @Test func connectingToAClosedPortFailsWithoutEndingTheReader() async throws {
        let loop = try EventLoop(name: "test-loop")
        let listener = try loop.listen(on: try SocketAddress.resolve(host: "127.0.0.1", port: 0)[0], onAccept: { _ in })
        let address = listener.address
        listener.close()
        let reads = Mutex(0)
        await #expect(throws: SystemError("connect", code: ECONNREFUSED)) {
            _ = try await withDeadline(.seconds(10), waitingFor: "connect to fail") {
                try await loop.connect(to: address) { _ in reads.withLock { $0 += 1 } }
            }
        }
        // A round trip through the loop: anything the failed connect had queued has run by now.
        _ = try await loop.connectedPair()
        #expect(reads.withLock { $0 } == 0)
        await loop.stop()
    }

    @Test func listensOnIPv6Loopback() async throws {
        guard let address = try? SocketAddress.resolve(host: "::1", port: 0).first else { return }
        let loop = try EventLoop(name: "test-loop")
        let (accepted, continuation) = AsyncStream.makeStream(of: Connection.self)
        guard let listener = try? loop.listen(on: address, onAccept: { continuation.yield($0) }) else {
            await loop.stop()
            return
        }
        #expect(listener.address.description.hasPrefix("[::1]:"))
        let client = try await loop.connect(to: listener.address)
        let server = try await withDeadline(.seconds(10), waitingFor: "accept") {
            var iterator = accepted.makeAsyncIterator()
            return await iterator.next()
        }
        // The peer is kept compactly (an IPv6 address's size): all of it survives.
        #expect(server?.peer.host == "::1")
        #expect(server?.peer.port != 0)
        #expect(server?.peer.family == AF_INET6)
        server?.send(Array("hi\n".utf8))
        #expect(try await read(client, count: 3) == Array("hi\n".utf8))
        await loop.stop()
    }

    @Test func connectsFromTheSourceAddressGiven() async throws {
        let loop = try EventLoop(name: "test-loop")
        let (accepted, continuation) = AsyncStream.makeStream(of: Connection.self)
        let listener = try loop.listen(on: try SocketAddress.resolve(host: "127.0.0.1", port: 0)[0], onAccept: { continuation.yield($0) })
        for source in ["127.0.0.2", "127.0.0.3"] {
            _ = try await loop.connect(to: listener.address, from: try SocketAddress.resolve(host: source, port: 0)[0])
        }
        let peers = try await withDeadline(.seconds(10), waitingFor: "two accepts") {
            var hosts: [String] = []
            for await connection in accepted {
                hosts.append(connection.peer.host)
                if hosts.count == 2 { break }
            }
            return hosts.sorted()
        }
        #expect(peers == ["127.0.0.2", "127.0.0.3"])
        await loop.stop()
    }
}
