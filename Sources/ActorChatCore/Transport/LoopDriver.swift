import Glibc
import CSystem

/// The state only the loop thread touches: registrations, write cursors, deadlines.
/// Created on the loop thread and never shared, so it needs no locks.
final class LoopDriver {
    private let loop: EventLoop
    private var connections: [UInt64: ConnectionIO] = [:]
    private var listeners: [UInt64: ListenerIO] = [:]
    private var connectionsPerAddress: [String: Int] = [:]
    /// Connections with a deadline: stalled writes, draining or lingering closes.
    private var watched: Set<UInt64> = []
    private var pausedListeners: [(listener: ListenerIO, until: UInt64)] = []
    private var stopping = false
    /// When the sweep for idle connections and deadlines runs next (four times a second).
    private var nextSweep: UInt64 = 0
    private static let sweepNanos: UInt64 = 250_000_000
    /// Buffer bytes released since the last trim that make it worth asking malloc to return memory to the system.
    private static let trimThreshold = 4 << 20
    private static let trimIntervalNanos: UInt64 = 1_000_000_000
    private var untrimmedBytes = 0
    private var lastTrim: UInt64 = 0
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    /// Where each write lists the chunks it hands the kernel.
    private let writeVectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: OutboundBuffer.maxChunksPerWrite)
    private let eventCapacity: Int32 = 512
    private let events: UnsafeMutablePointer<epoll_event>
    private var batch: [EventLoop.Command] = []
    /// Connections with output to write, in the order they got it, from `dirtyCursor` on. Each turn
    /// writes a slice of them, so a pass over a large room does not keep reads and commands waiting.
    private var dirty: [ConnectionIO] = []
    private var dirtyCursor = 0
    private static let tickNanos: UInt64 = 100_000_000
    private static let flushSlice = 64
    private static let acceptPauseNanos: UInt64 = 100_000_000

    init(loop: EventLoop) {
        self.loop = loop
        events = .allocate(capacity: Int(eventCapacity))
    }

    deinit {
        readBuffer.deallocate()
        writeVectors.deallocate()
        events.deallocate()
    }

    func run() {
        while !stopping {
            let timeout: Int32 =
                dirtyCursor < dirty.count ? 0
                : !watched.isEmpty || !pausedListeners.isEmpty ? Int32(Self.tickNanos / 1_000_000)
                : connections.isEmpty ? -1 : Int32(Self.sweepNanos / 1_000_000)
            let count = epoll_wait(loop.epollFD, events, eventCapacity, timeout)
            if count < 0 {
                guard errno == EINTR else { fatalError("epoll_wait: \(SystemError("epoll_wait"))") }
                continue
            }
            for index in 0..<Int(count) {
                let event = events[index]
                handle(id: event.data.u64, events: event.events)
            }
            loop.takeCommands(into: &batch)
            performBatch()
            batch.removeAll(keepingCapacity: true)
            flushSlice()
            if !watched.isEmpty || !pausedListeners.isEmpty { checkDeadlines() }
            let now = monotonicNanos()
            if now >= nextSweep {
                nextSweep = now + Self.sweepNanos
                sweepIdleConnections(now: now)
            }
        }
        for command in loop.closeMailbox() { perform(command) }
        for io in Array(connections.values) { teardown(io, reason: .loopStopped) }
        for io in Array(listeners.values) { closeListener(io) }
    }

    // MARK: - Events

    private func handle(id: UInt64, events: UInt32) {
        if id == 0 {
            var value: UInt64 = 0
            _ = Glibc.read(loop.wakeFD, &value, MemoryLayout<UInt64>.size)
        } else if let io = connections[id] {
            handleConnection(io, events: events)
        } else if let io = listeners[id] {
            acceptConnections(io)
        }
        // Any other id belongs to a registration already closed this turn: a stale event, ignored.
    }

    private func handleConnection(_ io: ConnectionIO, events: UInt32) {
        if let connecting = io.connecting {
            guard events & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 else { return }
            io.connecting = nil
            let code = Socket.pendingError(io.connection.fd)
            if code != 0 {
                connecting.resume(throwing: SystemError("connect", code: code))
                teardown(io, reason: .clientClosed)
                return
            }
            connecting.resume()
        }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            // When the peer's FIN came with the data, a short read does not mean the end was seen.
            let peerClosing = events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
            readAvailable(io, untilDrained: peerClosing)
        }
        if events & EPOLLOUT.rawValue != 0, connections[io.id] != nil {
            io.writable = true
            flush(io)
        }
    }

    /// Reads until the socket is drained (edge-triggered), the session's backlog is full, or the peer
    /// is gone. Without `untilDrained`, a short read is taken as drained: the next arrival raises a new edge.
    private func readAvailable(_ io: ConnectionIO, untilDrained: Bool = true) {
        let connection = io.connection
        guard !io.inputEnded, !connection.state.withLock({ $0.readingPaused }) else { return }
        // Input discarded while closing is bounded, so a client that keeps sending cannot hold the loop.
        var discardBudget = 16
        while true {
            let result: IOResult<Int>
            do {
                result = try Socket.read(connection.fd, into: readBuffer)
            } catch {
                endInput(io)
                teardown(io, reason: .clientClosed)
                return
            }
            guard case .done(let count) = result else { return }
            if count == 0 {
                // The peer finished sending. Lines already read still get their replies: the session
                // ends when the stream does, then asks for the close.
                endInput(io)
                if io.lingering { teardown(io, reason: .clientClosed) }
                return
            }
            if io.lingering {
                discardBudget -= 1
                if discardBudget == 0 { return }
                continue
            }
            if let handler = connection.readHandler {
                handler(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
                if !untilDrained && count < readBuffer.count { return }
                continue
            }
            let chunk = Array(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            let paused = connection.state.withLock { state -> Bool in
                state.inboundQueued += count
                if state.inboundQueued >= connection.limits.inboundBytes { state.readingPaused = true }
                return state.readingPaused
            }
            connection.inboundContinuation.yield(chunk)
            if paused || (!untilDrained && count < readBuffer.count) { return }
        }
    }

    private func endInput(_ io: ConnectionIO) {
        guard !io.inputEnded else { return }
        io.inputEnded = true
        io.connection.inboundContinuation.finish()
        io.connection.readHandler?(nil)
    }

    // MARK: - Output

    /// Queues bytes behind the connection's unwritten output. The connection joins the write queue
    /// once, however much it is given before its turn comes, so that output goes out in one `sendmsg`.
    private func append(_ bytes: [UInt8], to io: ConnectionIO) {
        guard admits(bytes.count, to: io) else { return }
        io.output.append(bytes)
        markDirty(io)
    }

    /// Queues a chunk that other connections hold too: a reference, not a copy.
    private func append(_ chunk: OutboundChunk, to io: ConnectionIO) {
        guard admits(chunk.count, to: io) else { return }
        io.output.append(chunk)
        markDirty(io)
    }

    /// False, and the connection is cut as a slow consumer, when `count` more bytes would pass its
    /// outbound bound: the limit, plus the largest reply or message lately queued (`allowance`).
    private func admits(_ count: Int, to io: ConnectionIO) -> Bool {
        guard io.closeMode == nil else { return false }
        guard io.output.count + count > io.outboundLimit + max(io.output.allowance, count) else { return true }
        let connection = io.connection
        connection.state.withLock { state in
            state.reason = state.reason ?? .slowConsumer
            state.closing = true
        }
        io.output.append(connection.limits.slowConsumerNotice)
        close(io, mode: .abort)
        return false
    }

    private func markDirty(_ io: ConnectionIO) {
        if !io.dirty {
            io.dirty = true
            dirty.append(io)
        }
    }

    /// Writes queued output until it is all written or the socket is full.
    private func flush(_ io: ConnectionIO) {
        io.dirty = false
        let connection = io.connection
        guard io.writable, io.connecting == nil else {
            publishQueued(io)
            return
        }
        var progressed = false
        while !io.output.isEmpty {
            let result: IOResult<Int>
            do {
                result = try io.output.write(to: connection.fd, using: writeVectors)
            } catch {
                teardown(io, reason: .clientClosed)
                return
            }
            switch result {
            case .done:
                io.wroteSinceSweep = true
                progressed = true
            case .wouldBlock:
                io.writable = false
                publishQueued(io)
                if progressed || io.stalledSince == nil { io.stalledSince = monotonicNanos() }
                watched.insert(io.id)
                return
            }
        }
        publishQueued(io)
        io.stalledSince = nil
        if io.closeMode == .drain { beginLinger(io) } else if io.closeDeadline == nil { watched.remove(io.id) }
    }

    // MARK: - Close

    private func close(_ io: ConnectionIO, mode: EventLoop.CloseMode) {
        if mode == .abort {
            if io.writable { flushOnce(io) }
            teardown(io, reason: .clientClosed)
            return
        }
        guard io.closeMode == nil else { return }
        io.closeMode = .drain
        io.closeDeadline = monotonicNanos() + UInt64(io.connection.limits.drainSeconds * 1e9)
        watched.insert(io.id)
        flush(io)
    }

    /// Tells other threads (`Connection.queuedBytes`) how much output waits, storing only on a
    /// change: a flush that empties an already-empty count is the common case, once per recipient
    /// per pass, and the store would dirty a line of the connection that session threads read.
    private func publishQueued(_ io: ConnectionIO) {
        let queued = io.output.count
        guard queued != io.publishedQueued else { return }
        io.publishedQueued = queued
        io.connection.queued.store(queued, ordering: .relaxed)
    }

    /// A last write for a connection about to be cut: whatever fits in the socket now.
    private func flushOnce(_ io: ConnectionIO) {
        guard io.connecting == nil, !io.output.isEmpty else { return }
        _ = try? io.output.write(to: io.connection.fd, using: writeVectors)
    }

    /// Output is written: half-close, then read (discarding) until the socket is empty, so unread
    /// input does not turn the close into a reset that could destroy the output in flight.
    private func beginLinger(_ io: ConnectionIO) {
        guard !io.lingering else { return }
        io.lingering = true
        shutdown(io.connection.fd, Int32(SHUT_WR))
        if !io.inputEnded {
            io.connection.state.withLock { $0.readingPaused = false }
            readAvailable(io)
        }
        teardown(io, reason: .clientClosed)
    }

    /// Deregisters, marks the connection closed, ends its stream and waiters, and only then closes the fd.
    private func teardown(_ io: ConnectionIO, reason: DisconnectReason) {
        guard connections.removeValue(forKey: io.id) != nil else { return }
        let connection = io.connection
        connection.io = nil
        epoll_ctl(loop.epollFD, EPOLL_CTL_DEL, connection.fd, nil)
        watched.remove(io.id)
        if io.countsTowardsAdmission {
            let key = connection.peer.host
            connectionsPerAddress[key, default: 1] -= 1
            if connectionsPerAddress[key] == 0 { connectionsPerAddress[key] = nil }
        }
        connection.state.withLock { state in
            state.closing = true
            state.reason = state.reason ?? reason
        }
        io.dirty = false
        io.output.removeAll()
        publishQueued(io)
        endInput(io)
        io.connecting?.resume(throwing: SystemError("connect", code: ECONNABORTED))
        io.connecting = nil
        Glibc.close(connection.fd)
    }

    private func checkDeadlines() {
        let now = monotonicNanos()
        for id in watched {
            guard let io = connections[id] else { continue }
            if let deadline = io.closeDeadline, now >= deadline {
                teardown(io, reason: .clientClosed)
            } else if let since = io.stalledSince,
                now - since >= UInt64(io.connection.limits.writeStallSeconds * 1e9) {
                io.connection.state.withLock { $0.reason = $0.reason ?? .slowConsumer }
                teardown(io, reason: .slowConsumer)
            }
        }
        while let first = pausedListeners.first, now >= first.until {
            pausedListeners.removeFirst()
            guard listeners[first.listener.id] != nil else { continue }
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = first.listener.id
            epoll_ctl(loop.epollFD, EPOLL_CTL_MOD, first.listener.listener.fd, &event)
        }
    }

    /// Pings connections that have been quiet, and closes those past their deadline or silent
    /// after the ping. Costs two atomic loads per connection per sweep.
    private func sweepIdleConnections(now: UInt64) {
        defer {
            // Freed buffers stay in malloc's arenas (and in RSS) until trimmed: after a burst, give
            // them back, so a server that was busy once does not keep its peak size while idle.
            // At most once a second: a trim walks every arena.
            if untrimmedBytes >= Self.trimThreshold && now - lastTrim >= Self.trimIntervalNanos {
                malloc_trim(0)
                untrimmedBytes = 0
                lastTrim = now
            }
        }
        for io in Array(connections.values) where io.closeMode == nil {
            let connection = io.connection
            let limits = connection.limits
            untrimmedBytes += releaseIdleBuffers(io)
            let deadline = connection.deadline.load(ordering: .relaxed)
            if deadline != 0 && now >= deadline {
                timeOut(io)
                continue
            }
            guard let pingAfter = limits.idlePingSeconds else { continue }
            let last = connection.lastActivity.load(ordering: .relaxed)
            if let pinged = io.pingedAt, last < pinged {
                // The timeout counts from the ping itself, so a coarse sweep never skips the ping.
                if Double(now - pinged) / 1e9 >= limits.idleCloseSeconds { timeOut(io) }
            } else if now > last, Double(now - last) / 1e9 >= pingAfter {
                io.pingedAt = now
                append(limits.idlePing, to: io)
                flush(io)
            } else {
                io.pingedAt = nil
            }
        }
    }

    /// A connection that wrote nothing since the last sweep gives back its output buffer's room, so
    /// idle clients cost no buffer memory while busy ones keep reusing theirs.
    /// Returns the bytes of capacity released.
    private func releaseIdleBuffers(_ io: ConnectionIO) -> Int {
        defer { io.wroteSinceSweep = false }
        guard !io.wroteSinceSweep, io.output.isEmpty else { return 0 }
        let released = io.output.reservedBytes
        io.output.removeAll()
        return released
    }

    private func timeOut(_ io: ConnectionIO) {
        close(io, notice: io.connection.limits.timeoutNotice, reason: .timeout)
    }

    /// Queues a last frame, records why, and closes once output is written.
    private func close(_ io: ConnectionIO, notice: [UInt8], reason: DisconnectReason) {
        append(notice, to: io)
        io.connection.state.withLock { state in
            state.reason = state.reason ?? reason
            state.closing = true
        }
        close(io, mode: .drain)
    }

    // MARK: - Commands

    /// Writes the next slice of connections with output. A connection given more output after its
    /// write joins the back of the queue, so a busy room's members are served round-robin while
    /// reads and commands are taken between slices rather than once per pass over all of them.
    private func flushSlice() {
        let end = min(dirtyCursor + Self.flushSlice, dirty.count)
        while dirtyCursor < end {
            let io = dirty[dirtyCursor]
            dirtyCursor += 1
            if io.dirty { flush(io) }
        }
        if dirtyCursor == dirty.count {
            dirty.removeAll(keepingCapacity: true)
            dirtyCursor = 0
        } else if dirtyCursor >= Self.flushSlice * 16 && dirtyCursor * 2 >= dirty.count {
            dirty.removeFirst(dirtyCursor)
            dirtyCursor = 0
        }
    }

    /// Performs the turn's commands in order. Consecutive broadcasts to the same recipient list (a
    /// busy room) are joined first into one shared chunk, so each recipient is given one reference per
    /// turn rather than one per message, and its next write lists fewer pieces.
    private func performBatch() {
        var index = 0
        while index < batch.count {
            guard case .broadcast(let first, let recipients) = batch[index] else {
                perform(batch[index])
                index += 1
                continue
            }
            let start = index
            var total = first.count
            index += 1
            while index < batch.count, case .broadcast(let more, let others) = batch[index], others.sharesStorage(with: recipients) {
                total += more.count
                index += 1
            }
            // The run's messages are copied once, straight into the chunk every recipient shares.
            let chunk = OutboundChunk(capacity: total, shared: true) { destination in
                var written = 0
                for case .broadcast(let part, _) in batch[start..<index] { written += part.copy(to: destination + written) }
                return written
            }
            broadcast(chunk, to: recipients)
        }
    }

    private func broadcast(_ chunk: OutboundChunk, to recipients: [Connection]) {
        for connection in recipients {
            if let io = connection.io { append(chunk, to: io) }
        }
    }

    private func perform(_ command: EventLoop.Command) {
        switch command {
        case .write(let connection, let bytes):
            if let io = connection.io { append(bytes, to: io) }
        case .broadcast(let bytes, let recipients):
            broadcast(OutboundChunk(sharing: bytes), to: recipients)
        case .register(let connection, let connecting):
            register(connection, connecting: connecting, countsTowardsAdmission: false)
        case .listen(let listener):
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = listener.id
            guard epoll_ctl(loop.epollFD, EPOLL_CTL_ADD, listener.fd, &event) == 0 else {
                Glibc.close(listener.fd)
                listener.onEvent(.closed)
                return
            }
            listeners[listener.id] = ListenerIO(listener: listener)
        case .resumeReading(let connection):
            if let io = connection.io { readAvailable(io) }
        case .close(let connection, let mode):
            if let io = connection.io { close(io, mode: mode) }
        case .closeListener(let listener):
            if let io = listeners[listener.id] { closeListener(io) }
        case .closeAll(let notice, let reason):
            for io in Array(connections.values) { close(io, notice: notice, reason: reason) }
        case .stop:
            stopping = true
        }
    }

    @discardableResult
    private func register(
        _ connection: Connection, connecting: CheckedContinuation<Void, any Error>?, countsTowardsAdmission: Bool
    ) -> ConnectionIO? {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        event.data.u64 = connection.id
        guard epoll_ctl(loop.epollFD, EPOLL_CTL_ADD, connection.fd, &event) == 0 else {
            let error = SystemError("epoll_ctl")
            connection.inboundContinuation.finish()
            Glibc.close(connection.fd)
            connecting?.resume(throwing: error)
            return nil
        }
        let io = ConnectionIO(connection: connection)
        io.connecting = connecting
        io.countsTowardsAdmission = countsTowardsAdmission
        if countsTowardsAdmission { connectionsPerAddress[connection.peer.host, default: 0] += 1 }
        connections[connection.id] = io
        connection.io = io
        return io
    }

    // MARK: - Listeners

    private func acceptConnections(_ io: ListenerIO) {
        let listener = io.listener
        for _ in 0..<256 {
            let accepted: IOResult<(Int32, SocketAddress)>
            do {
                accepted = try Socket.accept(listener.fd)
            } catch {
                switch error.code {
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Level-triggered: the pending connection would report again at once, so stop
                    // listening for a moment instead of spinning.
                    var event = epoll_event()
                    event.events = 0
                    event.data.u64 = listener.id
                    epoll_ctl(loop.epollFD, EPOLL_CTL_MOD, listener.fd, &event)
                    pausedListeners.append((io, monotonicNanos() + Self.acceptPauseNanos))
                    listener.onEvent(.acceptPaused(error))
                    return
                default:
                    continue
                }
            }
            guard case .done(let (fd, peer)) = accepted else { return }
            let admission = listener.admission
            if connections.count >= admission.maxConnections
                || connectionsPerAddress[peer.host, default: 0] >= admission.maxPerAddress {
                _ = admission.rejectNotice.withUnsafeBytes { try? Socket.send(fd, $0) }
                Glibc.close(fd)
                listener.onEvent(.rejected(peer))
                continue
            }
            let connection = Connection(id: loop.makeID(), fd: fd, peer: peer, loop: loop, limits: listener.limits)
            if register(connection, connecting: nil, countsTowardsAdmission: true) != nil {
                listener.onAccept(connection)
            }
        }
    }

    private func closeListener(_ io: ListenerIO) {
        guard listeners.removeValue(forKey: io.listener.id) != nil else { return }
        epoll_ctl(loop.epollFD, EPOLL_CTL_DEL, io.listener.fd, nil)
        Glibc.close(io.listener.fd)
        io.listener.onEvent(.closed)
    }
}

/// The loop's own record of a connection: the write cursor and deadlines.
final class ConnectionIO {
    let connection: Connection
    var id: UInt64 { connection.id }
    /// Output not yet written.
    var output = OutboundBuffer()
    /// `connection.limits.outboundBytes`, kept here because a broadcast checks it for every member
    /// and the connection's own line is then one more cache miss per member.
    let outboundLimit: Int
    /// In the write queue, waiting for its turn.
    var dirty = false
    /// The last count stored in `connection.queued`.
    var publishedQueued = 0
    var writable = true
    var inputEnded = false
    var lingering = false
    var wroteSinceSweep = false
    /// When the idle ping went out; nil while the client has been active since.
    var pingedAt: UInt64?
    var countsTowardsAdmission = false
    var closeMode: EventLoop.CloseMode?
    var closeDeadline: UInt64?
    /// When output last made progress while more was waiting; nil when nothing is stuck.
    var stalledSince: UInt64?
    var connecting: CheckedContinuation<Void, any Error>?

    init(connection: Connection) {
        self.connection = connection
        outboundLimit = connection.limits.outboundBytes
    }
}

final class ListenerIO {
    let listener: Listener
    var id: UInt64 { listener.id }

    init(listener: Listener) {
        self.listener = listener
    }
}

extension Array {
    /// True when both arrays are copies of one another that neither has changed since.
    fileprivate func sharesStorage(with other: [Element]) -> Bool {
        withUnsafeBufferPointer { mine in other.withUnsafeBufferPointer { mine.baseAddress == $0.baseAddress } }
    }
}
