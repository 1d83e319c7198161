import Glibc
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// The output queue on its own, over a non-blocking socketpair small enough that writes stop mid-chunk.
@Suite struct OutboundBufferTests {
    private func socketPair() throws -> (sender: Int32, receiver: Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var small: Int32 = 4096
        setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        return (fds[0], fds[1])
    }

    /// Everything the receiver can read now.
    private func drain(_ fd: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return received }
            received += chunk[0..<count]
        }
    }

    /// Writes `buffer` out completely, reading the other end whenever the socket is full.
    private func writeAll(_ buffer: inout OutboundBuffer, _ pair: (sender: Int32, receiver: Int32)) throws -> (bytes: [UInt8], stalls: Int) {
        let vectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: OutboundBuffer.maxChunksPerWrite)
        defer { vectors.deallocate() }
        var received: [UInt8] = []
        var stalls = 0
        while !buffer.isEmpty {
            if case .wouldBlock = try buffer.write(to: pair.sender, using: vectors) {
                stalls += 1
                received += drain(pair.receiver)
            }
        }
        received += drain(pair.receiver)
        return (received, stalls)
    }

    @Test func theAllowanceIsTheLargestRecentAppendLessWhatWasWrittenSince() throws {
        let pair = try socketPair()
        defer { close(pair.sender); close(pair.receiver) }
        let vectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: OutboundBuffer.maxChunksPerWrite)
        defer { vectors.deallocate() }
        var buffer = OutboundBuffer()
        buffer.append(Array(repeating: 1, count: 100))
        buffer.append(OutboundChunk(sharing: Array(repeating: 2, count: 50_000)))
        buffer.append(Array(repeating: 3, count: 10))
        #expect(buffer.allowance == 50_000)
        guard case .done(let written) = try buffer.write(to: pair.sender, using: vectors) else {
            Issue.record("the first write took nothing")
            return
        }
        #expect(buffer.count > 0, "the socket took everything at once, so nothing was left to check")
        #expect(buffer.allowance == 50_000 - written)
        _ = try writeAll(&buffer, pair)
        #expect(buffer.allowance == 0)
        buffer.append(Array(repeating: 4, count: 700))
        buffer.removeAll()
        #expect(buffer.allowance == 0)
    }

    @Test func writesStoppedMidChunkResumeWhereTheyStopped() throws {
        let pair = try socketPair()
        defer { close(pair.sender); close(pair.receiver) }
        let broadcast = Array(repeating: UInt8(ascii: "b"), count: 3000)
        let shared = OutboundChunk(sharing: broadcast)
        var buffer = OutboundBuffer()
        var expected: [UInt8] = []
        // Shared chunks between runs of small replies, which are copied into private chunks.
        for index in 0..<600 {
            if index % 3 == 0 {
                buffer.append(shared)
                expected += broadcast
            } else {
                let reply = Array("reply \(index)\n".utf8)
                buffer.append(reply)
                expected += reply
            }
        }
        #expect(buffer.count == expected.count)
        let (received, stalls) = try writeAll(&buffer, pair)
        #expect(stalls > 0)
        #expect(received == expected)
        #expect(buffer.count == 0)
    }

    @Test func oneChunkSharedByTwoBuffersReachesBoth() throws {
        let first = try socketPair(), second = try socketPair()
        defer { [first, second].forEach { close($0.sender); close($0.receiver) } }
        let message = Array("{\"event\":\"message\"}\n".utf8)
        let shared = OutboundChunk(sharing: message)
        var one = OutboundBuffer(), other = OutboundBuffer()
        one.append(shared)
        one.append(Array("only one\n".utf8))
        other.append(shared)
        #expect(try writeAll(&one, first).bytes == message + Array("only one\n".utf8))
        #expect(try writeAll(&other, second).bytes == message)
    }

    @Test func nothingQueuedForEmptyOutput() {
        var buffer = OutboundBuffer()
        buffer.append([])
        buffer.append(OutboundChunk(sharing: []))
        #expect(buffer.isEmpty)
        #expect(buffer.reservedBytes == 0)
    }

    @Test func moreChunksThanOneWriteTakesGoOutInOrder() throws {
        let pair = try socketPair()
        defer { close(pair.sender); close(pair.receiver) }
        var buffer = OutboundBuffer()
        var expected: [UInt8] = []
        for index in 0..<(OutboundBuffer.maxChunksPerWrite * 3 + 7) {
            let notice = Array("user_joined \(index)\n".utf8)
            buffer.append(OutboundChunk(sharing: notice))
            expected += notice
        }
        #expect(try writeAll(&buffer, pair).bytes == expected)
    }
}
