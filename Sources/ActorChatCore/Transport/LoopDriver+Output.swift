import Glibc

/// Output and closing on the loop: queueing bytes (framed for WebSocket where needed), writing
/// them, the slow-consumer bound, and the orderly and abrupt ways a connection ends.
extension LoopDriver {
    // MARK: - Output

    /// Queues bytes behind the connection's unwritten output. The connection joins the write queue
    /// once, however much it is given before its turn comes, so that output goes out in one `sendmsg`.
    func append(_ bytes: [UInt8], to io: ConnectionIO) {
        if io.isWebSocket {
            append(bytes.withUnsafeBytes { WebSocketFrame.textFrames(fromLines: $0, masked: io.masksFrames) }, to: io)
            return
        }
        guard admits(bytes.count, to: io) else { return }
        io.output.append(bytes)
        markDirty(io)
    }

    /// Queues a chunk that other connections hold too: a reference, not a copy, and already framed.
    func append(_ chunk: OutboundChunk, to io: ConnectionIO) {
        guard !io.closeFrameSent else { return }
        guard admits(chunk.count, to: io) else { return }
        io.output.append(chunk)
        markDirty(io)
    }

    /// False, and the connection is cut as a slow consumer, when `count` more bytes would pass its
    /// outbound bound: the limit, plus the largest reply or message lately queued (`allowance`).
    func admits(_ count: Int, to io: ConnectionIO) -> Bool {
        guard !io.isClosing else { return false }
        guard io.output.count + count > io.outboundLimit + max(io.output.allowance, count) else { return true }
        let connection = io.connection
        connection.state.withLock { state in
            state.reason = state.reason ?? .slowConsumer
            state.closing = true
        }
        if io.isWebSocket {
            io.output.append(connection.limits.slowConsumerNotice.withUnsafeBytes { WebSocketFrame.textFrames(fromLines: $0) })
        } else {
            io.output.append(connection.limits.slowConsumerNotice)
        }
        close(io, mode: .abort)
        return false
    }

    func markDirty(_ io: ConnectionIO) {
        if !io.dirty {
            io.dirty = true
            dirty.append(io)
        }
    }

    /// Writes queued output until it is all written or the socket is full.
    func flush(_ io: ConnectionIO) {
        io.dirty = false
        let connection = io.connection
        guard case .ready(let stalledSince) = io.writeState, !io.isConnecting else {
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
            case .done(let written):
                figures.recordWrite(written)
                io.wroteSinceSweep = true
                progressed = true
            case .wouldBlock:
                let since = progressed ? nil : stalledSince
                io.writeState = .blocked(stalledSince: since ?? monotonicNanos())
                publishQueued(io)
                watched.insert(io.id)
                return
            }
        }
        publishQueued(io)
        io.writeState = .ready(stalledSince: nil)
        if case .draining = io.phase { beginLinger(io) } else { watched.remove(io.id) }
    }

    // MARK: - Close

    func close(_ io: ConnectionIO, mode: EventLoop.CloseMode) {
        if io.isWebSocket && !io.closeFrameSent && !io.isClosing { queueCloseFrame(io) }
        switch (mode, io.phase) {
        case (.abort, _), (.drain, .connecting):
            // A connect in progress has nothing to drain: its waiter is told it was aborted.
            if case .ready = io.writeState { flushOnce(io) }
            teardown(io, reason: .clientClosed)
        case (.drain, .open):
            io.phase = .draining(deadline: monotonicNanos() + UInt64(io.connection.limits.drainSeconds * 1e9))
            watched.insert(io.id)
            flush(io)
        case (.drain, .draining), (.drain, .lingering):
            break
        }
    }

    /// A WebSocket client is told why its connection ends, with the code for the recorded reason.
    func queueCloseFrame(_ io: ConnectionIO) {
        let connection = io.connection
        let reason = connection.state.withLock { $0.reason } ?? .clientClosed
        let code = connection.limits.webSocketCloseCodes[reason] ?? WebSocketFrame.CloseCode.normal
        io.output.append(WebSocketFrame.close(code: code, reason: reason.rawValue))
        io.closeFrameSent = true
    }

    /// Tells other threads (`Connection.queuedBytes`) how much output waits, storing only on a
    /// change: a flush that empties an already-empty count is the common case, once per recipient
    /// per pass, and the store would dirty a line of the connection that session threads read.
    func publishQueued(_ io: ConnectionIO) {
        let queued = io.output.count
        guard queued != io.publishedQueued else { return }
        io.publishedQueued = queued
        io.connection.queued.store(queued, ordering: .relaxed)
    }

    /// A last write for a connection about to be cut: whatever fits in the socket now.
    func flushOnce(_ io: ConnectionIO) {
        guard !io.isConnecting, !io.output.isEmpty else { return }
        _ = try? io.output.write(to: io.connection.fd, using: writeVectors)
    }

    /// Output is written: half-close, then read (discarding) until the socket is empty, so unread
    /// input does not turn the close into a reset that could destroy the output in flight.
    func beginLinger(_ io: ConnectionIO) {
        guard !io.isLingering else { return }
        io.phase = .lingering
        // A failed half-close leaves nothing to linger for: the teardown below closes either way.
        _ = shutdown(io.connection.fd, Int32(SHUT_WR))
        if !io.inputEnded {
            io.connection.state.withLock { $0.readingPaused = false }
            readAvailable(io)
        }
        teardown(io, reason: .clientClosed)
    }

    /// Deregisters, marks the connection closed, ends its stream and waiters, and only then closes the fd.
    /// A connection that never opened fails its `connect` with `connectError` instead: its reader
    /// never had a connection, so it is not told of an end.
    func teardown(_ io: ConnectionIO, reason: DisconnectReason, connectError: Int32 = ECONNABORTED) {
        guard connections.removeValue(forKey: io.id) != nil else { return }
        let connection = io.connection
        connection.io = nil
        do {
            try epoll.remove(connection.fd)
        } catch {
            // Closing the descriptor below takes it out of the epoll set all the same.
            loop.report(error)
        }
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
        if case .connecting(let connecting) = io.phase {
            io.phase = .open
            connecting.resume(throwing: SystemError("connect", code: connectError))
        } else {
            endInput(io)
        }
        Glibc.close(connection.fd)
    }
}
