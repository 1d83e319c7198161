import Glibc

/// Bytes waiting to be written, in memory that stays where it is until every connection holding the
/// chunk has written it. A broadcast is one chunk shared by all its recipients. Only the loop thread
/// creates, fills and reads chunks.
final class OutboundChunk {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    private(set) var count: Int
    /// Queued for more than one connection, so its bytes are final.
    let isShared: Bool

    /// A chunk for one connection: `bytes` now, and room up to `capacity` for more.
    convenience init(copying bytes: [UInt8], capacity: Int) {
        precondition(capacity >= bytes.count)
        self.init(capacity: capacity, shared: false) { bytes.copy(to: $0) }
    }

    /// A chunk for many connections: `bytes`, final.
    convenience init(sharing bytes: [UInt8]) {
        self.init(capacity: bytes.count, shared: true) { bytes.copy(to: $0) }
    }

    /// Allocates `capacity` bytes and lets `fill` write its first bytes; returns how many it wrote.
    init(capacity: Int, shared: Bool, fill: (UnsafeMutableRawPointer) -> Int) {
        base = .allocate(byteCount: max(capacity, 1), alignment: 16)
        self.capacity = capacity
        isShared = shared
        count = fill(base)
        precondition(count <= capacity)
    }

    deinit {
        base.deallocate()
    }

    /// Adds `bytes` at the end when they fit; never for a shared chunk.
    func append(_ bytes: [UInt8]) -> Bool {
        guard !isShared, capacity - count >= bytes.count else { return false }
        count += bytes.copy(to: base + count)
        return true
    }
}

extension [UInt8] {
    /// Copies the bytes to `destination`; returns how many.
    func copy(to destination: UnsafeMutableRawPointer) -> Int {
        withUnsafeBytes { source in
            if let start = source.baseAddress { destination.copyMemory(from: start, byteCount: source.count) }
        }
        return count
    }
}

/// One connection's unwritten output: chunks in the order they were queued, the first written up to
/// `offset`. Fanning a message out costs each recipient a reference here, not a copy of the bytes,
/// and the kernel reads them from the one place all recipients share. Direct writes are copied into a
/// private chunk at the end, so a run of small replies still leaves in one `sendmsg`.
struct OutboundBuffer {
    /// The most chunks one `sendmsg` takes (the kernel allows 1,024).
    static let maxChunksPerWrite = 256
    /// Room in a new private chunk, so the replies that follow it are copied in rather than allocated.
    private static let privateChunkCapacity = 4096
    /// Written chunks stay referenced until this many pile up at the front (or all are written).
    private static let compactionThreshold = 32

    private var chunks: [OutboundChunk] = []
    private var head = 0
    private var offset = 0
    /// Bytes queued and not yet written.
    private(set) var count = 0
    /// The largest single append lately, less what has been written since. The slow-consumer bound
    /// is the output limit plus this, so a reply bigger than the limit (the member list of a large
    /// room) never counts against a client that keeps reading, while memory stays bounded.
    private(set) var allowance = 0

    var isEmpty: Bool { count == 0 }

    /// Memory this buffer holds for itself beyond what is queued: the room kept for chunk references.
    var reservedBytes: Int { chunks.capacity * MemoryLayout<OutboundChunk>.stride }

    /// Queues a chunk that other connections may hold too.
    mutating func append(_ chunk: OutboundChunk) {
        guard chunk.count > 0 else { return }
        chunks.append(chunk)
        count += chunk.count
        allowance = max(allowance, chunk.count)
    }

    /// Queues bytes for this connection alone.
    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if head < chunks.count, let last = chunks.last, last.append(bytes) {
            count += bytes.count
            allowance = max(allowance, bytes.count)
            return
        }
        append(OutboundChunk(copying: bytes, capacity: max(bytes.count, Self.privateChunkCapacity)))
    }

    /// One write of the queued chunks (up to `vectors.count` of them), dropping what the kernel took.
    /// A single chunk goes out with `send`: a one-element `sendmsg` costs 0.1-0.2 µs more per call here.
    mutating func write(to fd: Int32, using vectors: UnsafeMutableBufferPointer<iovec>) throws(SystemError) -> IOResult<Int> {
        let end = min(chunks.count, head + min(vectors.count, Self.maxChunksPerWrite))
        let result: IOResult<Int>
        if end - head == 1 {
            let chunk = chunks[head]
            result = try Socket.send(fd, UnsafeRawBufferPointer(start: chunk.base + offset, count: chunk.count - offset))
        } else {
            for index in head..<end {
                let chunk = chunks[index]
                let skip = index == head ? offset : 0
                vectors[index - head] = iovec(iov_base: chunk.base + skip, iov_len: chunk.count - skip)
            }
            result = try Socket.send(fd, UnsafeMutableBufferPointer(rebasing: vectors[0..<(end - head)]))
        }
        if case .done(let written) = result { consume(written) }
        return result
    }

    /// Forgets everything queued.
    mutating func removeAll() {
        chunks = []
        head = 0
        offset = 0
        count = 0
        allowance = 0
    }

    private mutating func consume(_ written: Int) {
        count -= written
        allowance = max(0, allowance - written)
        var remaining = written
        while remaining > 0 {
            let available = chunks[head].count - offset
            if remaining < available {
                offset += remaining
                break
            }
            remaining -= available
            head += 1
            offset = 0
        }
        if head == chunks.count {
            // A join storm can leave thousands of references behind: keep only a small array's room.
            chunks.removeAll(keepingCapacity: chunks.capacity <= Self.maxChunksPerWrite)
            head = 0
        } else if head >= Self.compactionThreshold && head * 2 >= chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
