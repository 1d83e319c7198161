import CSystem

/// Time on the loop: writes that stall, drains that overrun, idle clients pinged and then timed
/// out, and buffers handed back while connections idle.
extension LoopDriver {
    func checkDeadlines(now: UInt64) {
        for id in watched {
            guard let io = connections[id] else { continue }
            if case .draining(let deadline) = io.phase, now >= deadline {
                teardown(io, reason: .clientClosed)
            } else if let since = io.stalledSince,
                now - since >= UInt64(io.connection.limits.writeStallSeconds * 1e9) {
                io.connection.state.withLock { $0.reason = $0.reason ?? .slowConsumer }
                teardown(io, reason: .slowConsumer)
            }
        }
    }

    /// Pings connections that have been quiet, and closes those past their deadline or silent
    /// after the ping. Costs two atomic loads per connection per sweep.
    func sweepIdleConnections(now: UInt64) {
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
        // One pass that only reads and frees buffers; what closes or writes comes after it, as
        // that may change `connections` (no copy of all of them at every sweep).
        var due: [(io: ConnectionIO, action: SweepAction)] = []
        for io in connections.values where !io.isClosing {
            let connection = io.connection
            untrimmedBytes += releaseIdleBuffers(io)
            let deadline = connection.deadline.load(ordering: .relaxed)
            if deadline != 0 && now >= deadline {
                due.append((io, .deadline))
                continue
            }
            // The limits are read field by field: a copy of them all, notices and codes, would
            // retain and release each for every connection at every sweep.
            guard let pingAfter = connection.limits.idlePingSeconds else { continue }
            let last = connection.lastActivity.load(ordering: .relaxed)
            if io.pingedAt != 0, last < io.pingedAt {
                // The timeout counts from the ping itself, so a coarse sweep never skips the ping.
                if Double(now - io.pingedAt) / 1e9 >= connection.limits.idleCloseSeconds { due.append((io, .timeout)) }
            } else if now > last, Double(now - last) / 1e9 >= pingAfter {
                due.append((io, .ping))
            } else {
                io.pingedAt = 0
            }
        }
        // An earlier action may have torn a connection down (a write that failed): skip it then.
        for (io, action) in due where connections[io.id] === io && !io.isClosing {
            switch action {
            case .deadline:
                close(io, notice: io.connection.state.withLock { $0.deadlineNotice } ?? io.connection.limits.deadlineNotice, reason: .timeout)
            case .timeout:
                timeOut(io)
            case .ping:
                io.pingedAt = now
                if io.isWebSocket {
                    guard !io.closeFrameSent else { continue }
                    io.output.append(WebSocketFrame.frame(.ping, payload: []))
                } else {
                    append(io.connection.limits.idlePing, to: io)
                }
                flush(io)
            }
        }
    }

    /// What a sweep found a connection to need.
    private enum SweepAction {
        case deadline
        case timeout
        case ping
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
    func close(_ io: ConnectionIO, notice: [UInt8], reason: DisconnectReason) {
        append(notice, to: io)
        io.connection.state.withLock { state in
            state.reason = state.reason ?? reason
            state.closing = true
        }
        close(io, mode: .drain)
    }
}
