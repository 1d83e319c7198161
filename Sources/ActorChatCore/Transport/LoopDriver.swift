import Glibc
import CSystem

/// The state only the loop thread touches: registrations, write cursors, deadlines.
/// Created on the loop thread and never shared, so it needs no locks. Listeners and accepting are
/// in `LoopDriver+Listeners.swift`.
final class LoopDriver {
    let loop: EventLoop
    let epoll: Epoll
    var connections: [UInt64: ConnectionIO] = [:]
    var listeners: [UInt64: ListenerIO] = [:]
    var connectionsPerAddress: [String: Int] = [:]
    /// Connections with a deadline: stalled writes, draining or lingering closes.
    var watched: Set<UInt64> = []
    /// Listeners not watched for a while (accept ran out of descriptors or memory), and when each
    /// is watched again.
    var pausedListeners: [(listener: ListenerIO, until: UInt64)] = []
    private var stopping = false
    /// When the sweep for idle connections and deadlines runs next (four times a second).
    private var nextSweep: UInt64 = 0
    private static let sweepNanos: UInt64 = 250_000_000
    /// Buffer bytes released since the last trim that make it worth asking malloc to return memory to the system.
    static let trimThreshold = 4 << 20
    static let trimIntervalNanos: UInt64 = 1_000_000_000
    var untrimmedBytes = 0
    var lastTrim: UInt64 = 0
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    /// Where each write lists the chunks it hands the kernel.
    let writeVectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: OutboundBuffer.maxChunksPerWrite)
    private let eventCapacity: Int32 = 512
    private let events: UnsafeMutablePointer<epoll_event>
    private var batch: [EventLoop.Command] = []
    /// Connections with output to write, in the order they got it, from `dirtyCursor` on. Each turn
    /// writes a slice of them, so a pass over a large room does not keep reads and commands waiting.
    var dirty: [ConnectionIO] = []
    private var dirtyCursor = 0
    /// The figures counted since the loop started, published with each sweep.
    var figures = LoopFigures()
    /// Broadcasts not yet written to all their members, oldest first, from `fanoutHead` on: when each
    /// was sent, and the position in `dirty` the write queue must pass for its last member to be
    /// written (every member joined the queue before that position when the broadcast was queued).
    private var fanoutsInFlight: [(sentAt: UInt64, end: Int)] = []
    private var fanoutHead = 0
    private static let tickNanos: UInt64 = 100_000_000
    private static let flushSlice = 64

    init(loop: EventLoop) {
        self.loop = loop
        epoll = loop.epoll
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
            let count: Int
            do {
                count = try epoll.wait(into: events, capacity: eventCapacity, timeout: timeout)
            } catch {
                // epoll_wait fails only for a bad descriptor or buffer, which `Epoll` stops on.
                fatalError("\(error)")
            }
            // Each read hands a chunk to a session: the sessions' thread is woken once, at the end
            // of the turn, for all of them, rather than woken (and switched to, preempting the
            // loop) for each.
            let holding = count > 0 ? loop.sessions : nil
            holding?.holdWakeups()
            for index in 0..<count {
                let event = events[index]
                handle(id: event.data.u64, events: event.events)
            }
            figures.turns += 1
            loop.takeCommands(into: &batch)
            performBatch()
            batch.removeAll(keepingCapacity: true)
            flushSlice()
            if !watched.isEmpty || !pausedListeners.isEmpty {
                let now = monotonicNanos()
                checkDeadlines(now: now)
                resumePausedListeners(now: now)
            }
            let now = monotonicNanos()
            if now >= nextSweep {
                nextSweep = now + Self.sweepNanos
                sweepIdleConnections(now: now)
                loop.published.withLock { $0 = figures }
            }
            holding?.releaseWakeups()
        }
        loop.published.withLock { $0 = figures }
        for command in loop.closeMailbox() { perform(command) }
        for io in Array(connections.values) { teardown(io, reason: .loopStopped) }
        for io in Array(listeners.values) { closeListener(io) }
    }

    // MARK: - Events

    private func handle(id: UInt64, events: UInt32) {
        if id == 0 {
            // Only drains the counter: a failed read (EAGAIN) means another turn drained it first.
            var value: UInt64 = 0
            _ = Glibc.read(loop.wakeFD, &value, MemoryLayout<UInt64>.size)
        } else if let io = connections[id] {
            handleConnection(io, events: events)
        } else if let io = listeners[id], !isPaused(io) {
            acceptConnections(io)
        }
        // Any other id belongs to a registration already closed this turn: a stale event, ignored.
    }

    private func handleConnection(_ io: ConnectionIO, events: UInt32) {
        if case .connecting(let connecting) = io.phase {
            guard events & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 else { return }
            let code = Socket.pendingError(io.connection.fd)
            if code != 0 {
                teardown(io, reason: .clientClosed, connectError: code)
                return
            }
            io.phase = .open
            connecting.resume()
        }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            // When the peer's FIN came with the data, a short read does not mean the end was seen.
            let peerClosing = events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
            readAvailable(io, untilDrained: peerClosing)
        }
        if events & EPOLLOUT.rawValue != 0, connections[io.id] != nil {
            io.writeState = .ready(stalledSince: io.stalledSince)
            flush(io)
        }
    }

    /// Reads until the socket is drained (edge-triggered), the session's backlog is full, or the peer
    /// is gone. Without `untilDrained`, a short read is taken as drained: the next arrival raises a new edge.
    func readAvailable(_ io: ConnectionIO, untilDrained: Bool = true) {
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
                if io.isLingering { teardown(io, reason: .clientClosed) }
                return
            }
            if io.isLingering {
                discardBudget -= 1
                if discardBudget == 0 { return }
                continue
            }
            let continuation: AsyncStream<[UInt8]>.Continuation
            switch connection.inboundSink {
            case .handler(let handler):
                handler(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
                if !untilDrained && count < readBuffer.count { return }
                continue
            case .stream(_, let streamContinuation):
                continuation = streamContinuation
            }
            let chunk = Array(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            let paused = connection.state.withLock { state -> Bool in
                state.inboundQueued += Int32(count)
                if state.inboundQueued >= connection.limits.inboundBytes { state.readingPaused = true }
                return state.readingPaused
            }
            continuation.yield(chunk)
            if paused || (!untilDrained && count < readBuffer.count) { return }
        }
    }

    func endInput(_ io: ConnectionIO) {
        guard !io.inputEnded else { return }
        io.inputEnded = true
        switch io.connection.inboundSink {
        case .stream(_, let continuation): continuation.finish()
        case .handler(let handler): handler(nil)
        }
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
        recordFanouts()
        if dirtyCursor == dirty.count {
            dirty.removeAll(keepingCapacity: true)
            dirtyCursor = 0
        } else if dirtyCursor >= Self.flushSlice * 16 && dirtyCursor * 2 >= dirty.count {
            dirty.removeFirst(dirtyCursor)
            for index in fanoutHead..<fanoutsInFlight.count { fanoutsInFlight[index].end -= dirtyCursor }
            dirtyCursor = 0
        }
    }

    /// Times the broadcasts whose members the write queue has now all passed.
    private func recordFanouts() {
        guard fanoutHead < fanoutsInFlight.count, fanoutsInFlight[fanoutHead].end <= dirtyCursor else { return }
        let now = monotonicNanos()
        while fanoutHead < fanoutsInFlight.count, fanoutsInFlight[fanoutHead].end <= dirtyCursor {
            let sentAt = fanoutsInFlight[fanoutHead].sentAt
            figures.recordFanout(now > sentAt ? now - sentAt : 0)
            fanoutHead += 1
        }
        if fanoutHead == fanoutsInFlight.count {
            fanoutsInFlight.removeAll(keepingCapacity: true)
            fanoutHead = 0
        }
    }

    /// Performs the turn's commands in order. Consecutive broadcasts to the same recipient list (a
    /// busy room) are joined first into one shared chunk, so each recipient is given one reference per
    /// turn rather than one per message, and its next write lists fewer pieces.
    private func performBatch() {
        var index = 0
        while index < batch.count {
            guard case .broadcast(let first, let recipients, _) = batch[index] else {
                perform(batch[index])
                index += 1
                continue
            }
            let start = index
            var total = first.count
            index += 1
            while index < batch.count, case .broadcast(let more, let others, _) = batch[index], others.sharesStorage(with: recipients) {
                total += more.count
                index += 1
            }
            // The run's messages are copied once, straight into the chunk every recipient shares.
            let chunk = OutboundChunk(capacity: total, shared: true) { destination in
                var written = 0
                for case .broadcast(let part, _, _) in batch[start..<index] { written += part.copy(to: destination + written) }
                return written
            }
            broadcast(chunk, to: recipients)
            for case .broadcast(_, _, let sentAt) in batch[start..<index] { fanoutsInFlight.append((sentAt, dirty.count)) }
        }
    }

    /// WebSocket members share one framed copy, made when the first of them is reached.
    private func broadcast(_ chunk: OutboundChunk, to recipients: [Connection]) {
        var framed: OutboundChunk?
        for connection in recipients {
            guard let io = connection.io else { continue }
            if io.isWebSocket {
                let frames = framed ?? WebSocketFrame.textFrames(fromLines: UnsafeRawBufferPointer(start: chunk.base, count: chunk.count))
                framed = frames
                append(frames, to: io)
            } else {
                append(chunk, to: io)
            }
        }
    }

    private func perform(_ command: EventLoop.Command) {
        switch command {
        case .write(let connection, let bytes):
            if let io = connection.io { append(bytes, to: io) }
        case .broadcast(let bytes, let recipients, let sentAt):
            broadcast(OutboundChunk(sharing: bytes), to: recipients)
            fanoutsInFlight.append((sentAt, dirty.count))
        case .register(let connection, let connecting):
            register(connection, connecting: connecting, countsTowardsAdmission: false)
        case .listen(let listener):
            startListening(listener)
        case .upgradeToWebSocket(let connection, let masked):
            // The HTTP phase's own deadline notice (a 408) ends here, on the loop, where the
            // deadline is acted on: it can never go out framed.
            connection.state.withLock { $0.deadlineNotice = nil }
            connection.io?.isWebSocket = true
            connection.io?.masksFrames = masked
        case .writeFrame(let connection, let frame, let closes):
            guard let io = connection.io, !io.closeFrameSent, admits(frame.count, to: io) else { break }
            io.output.append(frame)
            io.closeFrameSent = closes
            markDirty(io)
        case .resumeReading(let connection):
            if let io = connection.io { readAvailable(io) }
        case .close(let connection, let mode):
            if let io = connection.io { close(io, mode: mode) }
        case .closeListener(let listener):
            if let io = listeners[listener.id] { closeListener(io) }
        case .closeAll(let notice, let reason):
            for io in Array(connections.values) {
                // A connection with a notice of its own is mid-request in another protocol (HTTP):
                // the line would be no answer there, so it is only closed.
                let ownNotice = io.connection.state.withLock { $0.deadlineNotice != nil }
                close(io, notice: ownNotice ? [] : notice, reason: reason)
            }
        case .stop:
            stopping = true
        }
    }
}

extension Array {
    /// True when both arrays are copies of one another that neither has changed since.
    fileprivate func sharesStorage(with other: [Element]) -> Bool {
        withUnsafeBufferPointer { mine in other.withUnsafeBufferPointer { mine.baseAddress == $0.baseAddress } }
    }
}
