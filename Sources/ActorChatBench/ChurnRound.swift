import ActorChatCore
import ActorChatProtocol
import Glibc
import Synchronization

/// One churn round on a raw connection: true once the server answered `left`, false on an error or
/// a lost connection. The outcome is delivered exactly once: to the waiting continuation, or kept
/// for the wait if it arrives first.
final class ChurnRound: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Bool, Never>?
        var outcome: Bool?
        var scanner = ChurnReplyScanner()
    }

    private let state = Mutex(State())

    static func run(_ requests: [UInt8], address: SocketAddress, loop: EventLoop) async -> Bool {
        let round = ChurnRound()
        guard let connection = try? await loop.connect(to: address, onRead: { round.consume($0) }) else { return false }
        connection.send(requests)
        let succeeded = await withCheckedContinuation { continuation in
            let early = round.state.withLock { state -> Bool? in
                if state.outcome == nil { state.continuation = continuation }
                return state.outcome
            }
            if let early { continuation.resume(returning: early) }
        }
        connection.close(.clientClosed, flush: false)
        return succeeded
    }

    private func consume(_ bytes: UnsafeRawBufferPointer?) {
        let waiter = state.withLock { state -> (CheckedContinuation<Bool, Never>, Bool)? in
            guard state.outcome == nil else { return nil }
            // No bytes: the connection is gone, and the round failed.
            let verdict = if let bytes { state.scanner.verdict(after: bytes) } else { false }
            guard let outcome = verdict else { return nil }
            state.outcome = outcome
            defer { state.continuation = nil }
            return state.continuation.map { ($0, outcome) }
        }
        if let (continuation, outcome) = waiter { continuation.resume(returning: outcome) }
    }
}

/// Reads a churn round's replies as they arrive: a `left` line ends the round well, an `error` line
/// ends it badly.
struct ChurnReplyScanner {
    private static let left = Array(#"{"event":"left""#.utf8)
    private static let error = Array(#"{"event":"error""#.utf8)
    private static let verdictBytes = max(left.count, error.count)

    /// The first bytes of the line being received, as many as a verdict needs. Only those are kept:
    /// a `welcome` listing 10,000 rooms is 450 kB, and keeping and rescanning it all made the
    /// generator, not the server, the limit of a churn run.
    private var lineStart: [UInt8] = []

    /// True at a `left` line, false at an `error` line, nil while neither has arrived.
    mutating func verdict(after bytes: UnsafeRawBufferPointer) -> Bool? {
        guard let base = bytes.baseAddress else { return nil }
        var start = 0
        while start < bytes.count {
            let newline = memchr(base + start, 0x0A, bytes.count - start)
            let end = newline.map { base.distance(to: UnsafeRawPointer($0)) } ?? bytes.count
            let wanted = min(end - start, Self.verdictBytes - lineStart.count)
            if wanted > 0 { lineStart.append(contentsOf: bytes[start..<start + wanted]) }
            guard newline != nil else { return nil }
            if lineStart.starts(with: Self.left) { return true }
            if lineStart.starts(with: Self.error) { return false }
            lineStart.removeAll(keepingCapacity: true)
            start = end + 1
        }
        return nil
    }
}
