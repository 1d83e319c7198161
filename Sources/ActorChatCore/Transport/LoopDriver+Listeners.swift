import CSystem
import Glibc

/// Registering connections, and the accept path: listening, admission, and pausing a listener
/// that ran out of descriptors or memory instead of spinning on it.
extension LoopDriver {
    private static let acceptPauseNanos: UInt64 = 100_000_000
    /// Connections taken from a listener's queue per readiness: as many as the kernel queues by
    /// default (`net.core.somaxconn`), so one turn can empty it. With 256 a turn, a storm of
    /// connects outran the loop while it was busy with the clients already in: the queue
    /// overflowed, the kernel dropped a SYN, and that client waited a whole second for the retry.
    private static let acceptsPerTurn = 4096

    @discardableResult
    func register(
        _ connection: Connection, connecting: CheckedContinuation<Void, any Error>?, countsTowardsAdmission: Bool
    ) -> ConnectionIO? {
        let events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        do {
            try epoll.add(connection.fd, id: connection.id, events: events)
        } catch {
            connection.finishInbound()
            Glibc.close(connection.fd)
            if let connecting {
                connecting.resume(throwing: error)
            } else {
                loop.report(error)
            }
            return nil
        }
        let io = ConnectionIO(
            connection: connection, phase: connecting.map { .connecting($0) } ?? .open,
            countsTowardsAdmission: countsTowardsAdmission)
        if countsTowardsAdmission { connectionsPerAddress[connection.peer.host, default: 0] += 1 }
        connections[connection.id] = io
        connection.io = io
        return io
    }

    func startListening(_ listener: Listener) {
        do {
            try epoll.add(listener.fd, id: listener.id, events: EPOLLIN.rawValue)
        } catch {
            loop.report(error)
            Glibc.close(listener.fd)
            listener.onEvent(.closed)
            return
        }
        listeners[listener.id] = ListenerIO(listener: listener)
    }

    func acceptConnections(_ io: ListenerIO) {
        let listener = io.listener
        for _ in 0..<Self.acceptsPerTurn {
            let accepted: IOResult<(Int32, SocketAddress)>
            do throws(SystemError) {
                if let code = loop.faults?.take(.accept) { throw SystemError("accept4", code: code) }
                accepted = try Socket.accept(listener.fd)
            } catch {
                switch error.code {
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    pause(io, because: error)
                    return
                default:
                    continue
                }
            }
            guard case .done(let (fd, peer)) = accepted else { return }
            let admission = listener.admission
            if connections.count >= admission.maxConnections
                || connectionsPerAddress[peer.host, default: 0] >= admission.maxPerAddress {
                // Best effort: the notice is a courtesy, and the close below happens either way.
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

    /// Stops watching a listener for a moment: it is level-triggered, so a connection it cannot
    /// accept would report again at once and the loop would spin.
    private func pause(_ io: ListenerIO, because error: SystemError) {
        listenerPaused(io, because: error)
        do {
            try epoll.modify(io.listener.fd, id: io.id, events: 0)
        } catch {
            // Still watched: the loop wakes for it until the pause ends, but ignores it meanwhile.
            listenerPaused(io, because: error)
        }
    }

    private func listenerPaused(_ io: ListenerIO, because error: SystemError) {
        if !pausedListeners.contains(where: { $0.listener === io }) {
            pausedListeners.append((io, monotonicNanos() + Self.acceptPauseNanos))
        }
        io.listener.onEvent(.acceptPaused(error))
    }

    /// Watches again the listeners whose pause has ended. A listener that cannot be watched again
    /// stays paused, says why, and is tried again after another pause: it never stops accepting
    /// for good without a word.
    func resumePausedListeners(now: UInt64) {
        var due: [ListenerIO] = []
        pausedListeners.removeAll { entry in
            guard now >= entry.until else { return false }
            due.append(entry.listener)
            return true
        }
        for io in due where listeners[io.id] != nil {
            do {
                try epoll.modify(io.listener.fd, id: io.id, events: EPOLLIN.rawValue)
            } catch {
                listenerPaused(io, because: error)
            }
        }
    }

    func isPaused(_ io: ListenerIO) -> Bool {
        pausedListeners.contains { $0.listener === io }
    }

    func closeListener(_ io: ListenerIO) {
        guard listeners.removeValue(forKey: io.listener.id) != nil else { return }
        pausedListeners.removeAll { $0.listener === io }
        do {
            try epoll.remove(io.listener.fd)
        } catch {
            // Closing the descriptor below takes it out of the epoll set all the same.
            loop.report(error)
        }
        Glibc.close(io.listener.fd)
        io.listener.onEvent(.closed)
    }
}
