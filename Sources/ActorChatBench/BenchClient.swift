import ActorChatClient
import ActorChatCore
import ActorChatProtocol
import Glibc
import Synchronization

/// One simulated client of a `BenchWorker`. Its input is scanned on the loop thread, line by line,
/// for the few markers the load test needs; nothing is decoded as JSON.
final class BenchClient: Sendable {
    let index: Int
    let room: String
    private let worker: BenchTally
    /// The tail of a line split across reads, and reused scratch for this chunk's latencies.
    /// Only the loop thread touches it; the Mutex is uncontended and satisfies Sendable.
    private let scratch = Mutex<(carry: [UInt8], latencies: [UInt64], lastSeq: UInt64)>(([], [], 0))
    /// The current connection, and whether the server has confirmed its join (sends wait for it).
    private let link = Mutex<(connection: Connection?, joined: Bool)>((nil, false))
    /// Called when the connection is lost; nil: the client stays down.
    private let lost: (@Sendable (BenchClient) -> Void)?
    /// Sends its join as soon as its `welcome` arrives (a client arriving on its own).
    private let joinOnWelcome: Bool
    /// Speaks WebSocket: the input is deframed into lines first (see `read`).
    private let webSocket: Bool
    /// A WebSocket client's unread input, and whether the 101 head has been passed.
    private let deframing = Mutex<(pending: [UInt8], pastHead: Bool)>(([], false))

    init(
        index: Int, room: String, tally: BenchTally, lost: (@Sendable (BenchClient) -> Void)? = nil, joinOnWelcome: Bool = false,
        webSocket: Bool = false
    ) {
        self.webSocket = webSocket
        self.index = index
        self.room = room
        worker = tally
        self.lost = lost
        self.joinOnWelcome = joinOnWelcome
    }

    func attach(_ connection: Connection) {
        link.withLock { $0 = (connection, false) }
    }

    var attached: Connection? { link.withLock { $0.connection } }

    /// The newest seq this client has seen in its room: where a resume starts.
    var lastSeq: UInt64 { scratch.withLock { $0.lastSeq } }

    /// Sends `request` if the client is in its room; false while it is away or rejoining.
    func sendIfJoined(_ request: [UInt8]) -> Bool {
        guard let connection = link.withLock({ $0.joined ? $0.connection : nil }) else { return false }
        connection.send(request)
        return true
    }

    /// Sends the WebSocket upgrade; from then on the loop frames what the client sends, masked.
    func upgrade(_ connection: Connection) {
        connection.send(Array("GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        deframing.withLock { $0 = ([], false) }
        connection.upgradeToWebSocket(masked: true)
    }

    /// Input from the loop: lines as they are, or, over WebSocket, each text frame's payload as a line.
    func read(_ bytes: UnsafeRawBufferPointer?) {
        guard webSocket, let bytes else { return consume(bytes) }
        let lines = deframing.withLock { state -> [UInt8] in
            state.pending.append(contentsOf: bytes)
            var offset = 0
            if !state.pastHead {
                guard let end = state.pending.firstRange(of: [0x0D, 0x0A, 0x0D, 0x0A]) else { return [] }
                offset = end.upperBound
                state.pastHead = true
            }
            var lines: [UInt8] = []
            let pending = state.pending
            while pending.count - offset >= 2 {
                var length = Int(pending[offset + 1] & 0x7F)
                var header = 2
                if length == 126 {
                    guard pending.count - offset >= 4 else { break }
                    length = Int(pending[offset + 2]) << 8 | Int(pending[offset + 3])
                    header = 4
                } else if length == 127 {
                    guard pending.count - offset >= 10 else { break }
                    length = (2..<10).reduce(0) { $0 << 8 | Int(pending[offset + $1]) }
                    header = 10
                }
                guard pending.count - offset >= header + length else { break }
                // Text frames only: the server pings idle clients, and a load test's are not idle.
                if pending[offset] & 0x0F == 0x1 {
                    lines.append(contentsOf: pending[(offset + header)..<(offset + header + length)])
                    lines.append(0x0A)
                }
                offset += header + length
            }
            state.pending.removeFirst(offset)
            return lines
        }
        if !lines.isEmpty { lines.withUnsafeBytes { consume($0) } }
    }

    func consume(_ bytes: UnsafeRawBufferPointer?) {
        guard let bytes else {
            link.withLock { $0 = (nil, false) }
            worker.disconnected()
            lost?(self)
            return
        }
        var tally = BenchTally.Chunk()
        let now = monotonicNanos()
        scratch.withLock { scratch in
            scratch.latencies.removeAll(keepingCapacity: true)
            var start = 0
            while start < bytes.count, let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) {
                let newline = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                if scratch.carry.isEmpty {
                    scan(UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), now: now, into: &tally, latencies: &scratch.latencies, lastSeq: &scratch.lastSeq)
                } else {
                    scratch.carry.append(contentsOf: bytes[start..<newline])
                    let line = scratch.carry
                    scratch.carry.removeAll(keepingCapacity: true)
                    line.withUnsafeBytes { scan($0, now: now, into: &tally, latencies: &scratch.latencies, lastSeq: &scratch.lastSeq) }
                }
                start = newline + 1
            }
            scratch.carry.append(contentsOf: bytes[start...])
            worker.add(tally, latencies: scratch.latencies)
        }
        if tally.counts.joined > 0 { link.withLock { $0.joined = true } }
        if joinOnWelcome, tally.counts.welcomed > 0 {
            attached?.send(ClientRequest(event: "join", params: ["room": .string(room)]).encoded())
        }
        if tally.pings > 0 { attached?.send(ClientRequest(event: "ping").encoded()) }
    }

    private static let message = Array(#"{"event":"message""#.utf8)
    private static let joined = Array(#"{"event":"joined""#.utf8)
    private static let welcome = Array(#"{"event":"welcome""#.utf8)
    private static let error = Array(#"{"event":"error","params":{"code":""#.utf8)
    private static let historyGap = Array(#"{"event":"history_gap""#.utf8)
    private static let history = Array(#"{"event":"history","#.utf8)
    private static let ping = Array(#"{"event":"ping""#.utf8)
    private static let textMarker = Array(#""text":""#.utf8)
    private static let messageRoom = Array(#"{"event":"message","params":{"room":""#.utf8)
    private static let fromAfterRoom = Array(#"","from":""#.utf8)
    private static let textAfterFrom = Array(#"","text":""#.utf8)
    private static let seqMarker = Array(#""seq":"#.utf8)

    private func scan(
        _ line: UnsafeRawBufferPointer, now: UInt64, into tally: inout BenchTally.Chunk, latencies: inout [UInt64], lastSeq: inout UInt64
    ) {
        if Self.has(line, prefix: Self.message) {
            // The text is "SENDNS|SENDER|padding": the intended send time and who sent it.
            guard var cursor = Self.textStart(in: line) ?? Self.end(of: Self.textMarker, in: line) else { return }
            let sentAt = Self.number(line, &cursor)
            cursor += 1
            let sender = Self.number(line, &cursor)
            if sender != UInt64(index) {
                tally.counts.received += 1
                latencies.append(now > sentAt ? now - sentAt : 0)
            }
            // The delivery promise: every message of the room, once, in seq order, no gaps.
            guard let seqStart = Self.end(of: Self.seqMarker, in: UnsafeRawBufferPointer(rebasing: line[cursor...])) else { return }
            var seqCursor = cursor + seqStart
            let seq = Self.number(line, &seqCursor)
            if seq == lastSeq {
                tally.counts.duplicates += 1
            } else if seq < lastSeq {
                tally.counts.reorders += 1
            } else {
                tally.counts.losses += Int(seq - lastSeq - 1)
                lastSeq = seq
            }
        } else if Self.has(line, prefix: Self.joined) {
            tally.counts.joined += 1
        } else if Self.has(line, prefix: Self.welcome) {
            tally.counts.welcomed += 1
        } else if Self.has(line, prefix: Self.error) {
            let codeStart = Self.error.count
            let codeEnd = line[codeStart...].firstIndex(of: UInt8(ascii: "\"")) ?? line.count
            tally.errors.append(String(decoding: line[codeStart..<codeEnd], as: UTF8.self))
        } else if Self.has(line, prefix: Self.ping) {
            tally.pings += 1
        } else if Self.has(line, prefix: Self.historyGap) {
            tally.counts.gaps += 1
        } else if Self.has(line, prefix: Self.history) {
            // The answer to the soak's closing `history {limit: 1}`: the room's newest stored seq
            // (none in an empty room). Anything above what this client saw was lost at the tail.
            var newest: UInt64 = 0
            if let seqStart = Self.end(of: Self.seqMarker, in: line) {
                var cursor = seqStart
                newest = Self.number(line, &cursor)
            }
            tally.counts.verified += 1
            if newest > lastSeq { tally.counts.tailLosses += Int(newest - lastSeq) }
        }
    }

    private static func has(_ line: UnsafeRawBufferPointer, prefix: [UInt8]) -> Bool {
        line.count >= prefix.count && prefix.withUnsafeBytes { memcmp(line.baseAddress!, $0.baseAddress!, prefix.count) == 0 }
    }

    /// Where the text starts in a `message` line laid out as the server writes it (room, from, text):
    /// the two names are skipped whole, where a search for the text's key stopped at every quote
    /// before it (a third of this process's CPU at fanout-1000). Nil for any other layout.
    private static func textStart(in line: UnsafeRawBufferPointer) -> Int? {
        guard has(line, prefix: messageRoom) else { return nil }
        guard let from = skipName(in: line, from: messageRoom.count, to: fromAfterRoom) else { return nil }
        return skipName(in: line, from: from, to: textAfterFrom)
    }

    /// Skips the quoted name starting at `cursor` and the key that must follow it; the offset after
    /// the key. Names cannot contain a quote, so the next quote ends the name.
    private static func skipName(in line: UnsafeRawBufferPointer, from cursor: Int, to key: [UInt8]) -> Int? {
        guard let base = line.baseAddress, cursor < line.count, let quote = memchr(base + cursor, 0x22, line.count - cursor) else {
            return nil
        }
        let end = base.distance(to: UnsafeRawPointer(quote))
        return has(UnsafeRawBufferPointer(rebasing: line[end...]), prefix: key) ? end + key.count : nil
    }

    /// The offset just past the first occurrence of `marker` in `line`.
    private static func end(of marker: [UInt8], in line: UnsafeRawBufferPointer) -> Int? {
        guard let base = line.baseAddress, line.count >= marker.count else { return nil }
        var offset = 0
        while offset + marker.count <= line.count {
            guard let found = memchr(base + offset, Int32(marker[0]), line.count - marker.count + 1 - offset) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(found))
            if marker.withUnsafeBytes({ memcmp(base + position, $0.baseAddress!, marker.count) }) == 0 { return position + marker.count }
            offset = position + 1
        }
        return nil
    }

    private static func number(_ line: UnsafeRawBufferPointer, _ cursor: inout Int) -> UInt64 {
        var value: UInt64 = 0
        while cursor < line.count, (0x30...0x39).contains(line[cursor]) {
            value = value &* 10 &+ UInt64(line[cursor] - 0x30)
            cursor += 1
        }
        return value
    }
}

/// A worker's running totals, updated once per chunk read.
final class BenchTally: Sendable {
    /// What both a chunk and the running totals count.
    struct Counts {
        var received = 0
        var joined = 0
        var welcomed = 0
        var losses = 0
        var duplicates = 0
        var reorders = 0
        /// `history_gap` notices: a resume that could not replay everything missed.
        var gaps = 0
        /// Closing checks answered, and the messages they found that this client never saw.
        var verified = 0
        var tailLosses = 0
        var reconnects = 0

        mutating func add(_ other: Counts) {
            received += other.received
            joined += other.joined
            welcomed += other.welcomed
            losses += other.losses
            duplicates += other.duplicates
            reorders += other.reorders
            gaps += other.gaps
            verified += other.verified
            tailLosses += other.tailLosses
            reconnects += other.reconnects
        }
    }

    struct Chunk {
        var counts = Counts()
        var pings = 0
        var errors: [String] = []
    }

    struct Totals {
        var counts = Counts()
        var disconnects = 0
        var errors: [String: Int] = [:]
        var histogram = LatencyHistogram()
        /// Resumed once the milestone's count plus the errors reach `target`.
        var waiter: (milestone: Milestone, target: Int, continuation: CheckedContinuation<Void, Never>)?

        /// A refused login or join counts as settled too: the wait ends and the worker reports the refusals.
        func settled(_ milestone: Milestone) -> Int {
            let reached = switch milestone {
            case .welcomed: counts.welcomed
            case .joined: counts.joined
            case .verified: counts.verified
            }
            return errors.values.reduce(0, +) + reached
        }
    }

    /// What a worker waits for while it sets its clients up.
    enum Milestone {
        case welcomed
        case joined
        case verified
    }

    let totals = Mutex(Totals())

    func add(_ chunk: Chunk, latencies: [UInt64]) {
        let waiter = totals.withLock { totals -> CheckedContinuation<Void, Never>? in
            totals.counts.add(chunk.counts)
            for code in chunk.errors { totals.errors[code, default: 0] += 1 }
            for latency in latencies { totals.histogram.record(nanos: latency) }
            guard let waiter = totals.waiter, totals.settled(waiter.milestone) >= waiter.target else { return nil }
            totals.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    func disconnected() {
        totals.withLock { $0.disconnects += 1 }
    }

    func reconnected() {
        totals.withLock { $0.counts.reconnects += 1 }
    }

    /// Returns once `count` clients have reached `milestone` or been refused.
    func wait(for milestone: Milestone, count: Int) async {
        await withCheckedContinuation { continuation in
            let done = totals.withLock { totals -> Bool in
                if totals.settled(milestone) >= count { return true }
                totals.waiter = (milestone, count, continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
