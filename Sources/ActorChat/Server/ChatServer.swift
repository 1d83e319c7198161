import ActorChatCore
import ActorChatProtocol
import ActorChatStore
import Glibc

/// The chat server: binds, accepts, runs one `Session` task per connection, and shuts down in
/// order. Its phase is re-checked after every await, since another call may have moved it on.
public actor ChatServer {
    public nonisolated let services: ServerServices
    private let dispatcher: Dispatcher
    private var phase = Phase.idle
    private var stoppedWaiters: [CheckedContinuation<Void, Never>] = []
    /// Closed once every session has ended, so each one's last commit is acted on first.
    private var store: ChatStore?

    private enum Phase {
        case idle
        /// Creating the configured rooms: a shutdown now ends the start, which then throws.
        case starting
        case running(Running)
        case stopping(Running)
        case stopped

        var isStopped: Bool {
            if case .stopped = self { true } else { false }
        }
    }

    private struct Running {
        let loop: EventLoop
        let listeners: [Listener]
        /// Accepted connections, one stream per group of sessions (see `sessionGroups`).
        let accepted: [AsyncStream<Connection>]
        let acceptedContinuations: [AsyncStream<Connection>.Continuation]
    }

    /// Sessions are spread over this many task groups. A task leaving its group is unlinked by a
    /// walk along the group's children, so with one group a disconnect cost a walk past every
    /// other session, and 19,000 clients leaving at once held the sessions' thread for 2-3 s.
    static let sessionGroups = 32

    public init(configuration: ServerConfiguration, log: ServerLog? = nil, dispatcher: Dispatcher = .chat()) {
        services = ServerServices(configuration: configuration, log: log ?? ServerLog(level: configuration.logLevel))
        self.dispatcher = dispatcher
    }

    /// Creates the configured rooms, binds, and starts accepting. Returns the bound addresses
    /// (with the real port when port 0 was asked for). A `shutdown` that comes first, or while the
    /// rooms are being created, wins: start then throws and nothing is bound.
    public func start() async throws -> [SocketAddress] {
        guard case .idle = phase else { throw phase.isStopped ? ServerError.shutDown : ServerError.alreadyStarted }
        phase = .starting
        do {
            return try await startServing()
        } catch {
            // A start that failed leaves a stopped server; one that a shutdown ended already is.
            if case .starting = phase { markStopped() }
            throw error
        }
    }

    private func startServing() async throws -> [SocketAddress] {
        let configuration = services.configuration
        if let directory = configuration.dataDirectory {
            var options = StoreOptions()
            options.sync = configuration.sync
            options.historyLimit = configuration.rooms.historyLimit
            options.replayLimit = configuration.rooms.replayLimit
            options.indexEvery = configuration.storeIndexEvery
            let (store, contents) = try ChatStore.open(directory: directory, options: options, now: RoomManager.now())
            self.store = store
            await services.rooms.restore(store, rooms: contents.rooms)
            await services.accounts.restore(contents.accounts, sessions: contents.sessions)
            services.log.log(.info, "store \(store.path): \(contents.rooms.count) rooms, \(contents.accounts.count) accounts")
            guard case .starting = phase else { throw ServerError.shutDown }
        }
        for room in configuration.initialRooms {
            // A room the store already holds is left as it is stored.
            guard await !services.rooms.exists(room.name) else { continue }
            let limit = room.limit ?? min(ServerConfiguration.defaultRoomLimit, configuration.rooms.maxRoomLimit)
            try await services.rooms.createRoom(name: room.name, limit: limit, by: nil)
            guard case .starting = phase else { throw ServerError.shutDown }
        }
        let log = services.log
        let loop = try EventLoop(name: "chat-io", sessions: services.executor) { log.log(.error, "event loop: \($0)") }
        services.attach(loop)
        let streams = (0..<Self.sessionGroups).map { _ in AsyncStream.makeStream(of: Connection.self) }
        let listeners: [Listener]
        do {
            listeners = try bind(loop: loop, accepted: streams.map(\.continuation))
        } catch {
            await loop.stop()
            throw error
        }
        // No await since the last check: the phase is still `.starting`.
        phase = .running(Running(loop: loop, listeners: listeners, accepted: streams.map(\.stream), acceptedContinuations: streams.map(\.continuation)))
        return listeners.map(\.address)
    }

    /// Serves until `shutdown` completes: one child task per connection (in `sessionGroups` groups),
    /// all ended before it returns.
    public func run() async {
        // A shutdown may already have begun: run still drains what was accepted, then stops the loop.
        let running: Running
        switch phase {
        case .running(let current), .stopping(let current): running = current
        case .idle, .starting, .stopped: return
        }
        let services = services
        let dispatcher = dispatcher
        // Accepting runs on the sessions' thread too, so a new connection wakes no thread of the
        // global pool on its way to its session (churn: futex calls 0.7x, context switches 0.4-0.6x).
        // Each session's task inherits the preference, which keeps its steps inside `AsyncStream` here.
        await withTaskExecutorPreference(services.executor) {
            await withDiscardingTaskGroup { groups in
                for accepted in running.accepted {
                    groups.addTask {
                        await withDiscardingTaskGroup { group in
                            for await connection in accepted {
                                services.connectionOpened()
                                // The task's closure, which it keeps for life, holds the session alone.
                                let session = Session(connection: connection, services: services, dispatcher: dispatcher)
                                group.addTask { await session.run() }
                            }
                        }
                    }
                }
            }
        }
        await running.loop.stop()
        markStopped()
    }

    private func markStopped() {
        store?.close()
        store = nil
        phase = .stopped
        services.log.log(.info, "stopped")
        stoppedWaiters.forEach { $0.resume() }
        stoppedWaiters = []
    }

    /// Stops accepting, sends every client `server_shutdown`, flushes queued output (bounded by
    /// the shutdown deadline) and returns once `run` has finished.
    public func shutdown() async {
        switch phase {
        case .idle, .starting:
            // Nothing is bound yet; a start under way sees the phase when it resumes, and throws.
            markStopped()
            return
        case .stopped:
            return
        case .stopping:
            break
        case .running(let running):
            phase = .stopping(running)
            services.beginShutdown()
            services.log.log(.info, "shutting down")
            running.listeners.forEach { $0.close() }
            running.loop.closeAll(notice: ServerEvent.serverShutdown.encoded(), reason: .serverShutdown)
            running.acceptedContinuations.forEach { $0.finish() }
        }
        await withCheckedContinuation { stoppedWaiters.append($0) }
    }

    /// Descriptors kept free past the connection limit: listeners, the event loop, logs, and the
    /// accept that tells a refused client `server_full` instead of failing with EMFILE.
    static let reservedDescriptors = 64

    private func bind(loop: EventLoop, accepted: [AsyncStream<Connection>.Continuation]) throws -> [Listener] {
        let configuration = services.configuration
        var limits = ConnectionLimits()
        limits.outboundBytes = configuration.outboundLimitBytes
        limits.writeStallSeconds = configuration.writeStallSeconds
        limits.drainSeconds = configuration.shutdownSeconds
        limits.slowConsumerNotice = ServerEvent.error(.slowConsumer).encoded()
        limits.idlePingSeconds = configuration.idlePingSeconds
        limits.idleCloseSeconds = configuration.idleTimeoutSeconds
        limits.idlePing = ServerEvent.ping.encoded()
        limits.webSocketCloseCodes[.serverShutdown] = WebSocketFrame.CloseCode.goingAway
        limits.webSocketCloseCodes[.frameTooLarge] = WebSocketFrame.CloseCode.messageTooBig
        limits.webSocketCloseCodes[.rateLimited] = WebSocketFrame.CloseCode.policyViolation
        limits.webSocketCloseCodes[.sessionReplaced] = WebSocketFrame.CloseCode.policyViolation
        limits.timeoutNotice = ServerEvent.error(.timeout("no request in time; the connection is closed")).encoded()
        let window = configuration.loginTimeoutSeconds
        let seconds = window == window.rounded() ? String(Int(window)) : String(window)
        limits.deadlineNotice = ServerEvent.error(.timeout("log in within \(seconds) s of connecting; the connection is closed")).encoded()
        var admission = Admission()
        admission.rejectNotice = ServerEvent.error(.serverFull).encoded()
        admission.maxConnections = configuration.maxConnections ?? max(1, DescriptorLimit.raise() - Self.reservedDescriptors)
        admission.maxPerAddress = configuration.maxConnectionsPerAddress
        let log = services.log
        let services = services
        var addresses = try SocketAddress.resolve(host: configuration.host, port: configuration.port)
        var listeners: [Listener] = []
        while !addresses.isEmpty {
            let address = addresses.removeFirst()
            do {
                listeners.append(try loop.listen(on: address, limits: limits, admission: admission) { connection in
                    accepted[Int(connection.id % UInt64(accepted.count))].yield(connection)
                } onEvent: { event in
                    switch event {
                    case .acceptPaused(let error): log.log(.warn, "accept paused: \(error)")
                    case .rejected(let peer):
                        services.recordRejection()
                        log.log(.info, "rejected \(peer): server full")
                    case .closed: break
                    }
                })
            } catch let error where error.code == EAFNOSUPPORT && configuration.host == "::" && listeners.isEmpty {
                // No IPv6 on this machine: the default "every address" falls back to IPv4's.
                addresses = try SocketAddress.resolve(host: "0.0.0.0", port: configuration.port)
            } catch {
                listeners.forEach { $0.close() }
                throw error
            }
        }
        return listeners
    }
}

/// Why the server could not do what was asked.
public enum ServerError: Error, Equatable, CustomStringConvertible {
    case alreadyStarted
    case shutDown

    public var description: String {
        switch self {
        case .alreadyStarted: "the server has already been started"
        case .shutDown: "the server was shut down before it started serving"
        }
    }
}
