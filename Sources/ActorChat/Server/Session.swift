import ActorChatCore
import ActorChatProtocol
/// One connection's life: frames requests from its inbound stream (JSON lines, or WebSocket
/// messages after an HTTP upgrade), dispatches each request in order, and on the way out leaves
/// every room so the others hear `user_left` exactly once. An actor on the `SessionExecutor` it
/// shares with the `RoomManager`, so its awaits on the rooms do not switch threads.
actor Session {
    let connection: Connection
    let services: ServerServices
    let dispatcher: Dispatcher

    init(connection: Connection, services: ServerServices, dispatcher: Dispatcher) {
        self.connection = connection
        self.services = services
        self.dispatcher = dispatcher
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        services.executor.asUnownedSerialExecutor()
    }

    func run() async {
        let configuration = services.configuration
        var context = SessionContext(connection: connection, services: services)
        var chunks = connection.inbound.makeAsyncIterator()
        connection.setDeadline(in: configuration.loginTimeoutSeconds)
        logConnect()
        // One look at the first bytes: an HTTP request line starts with an upper-case method, a
        // request of the protocol with `{` or a blank. After this, a TCP client pays nothing for it.
        var transport: ServerMetrics.Transport?
        if let first = await chunks.next(isolation: #isolation) {
            if WebGateway.looksLikeHTTP(first) {
                transport = .http
                services.metrics.opened(.http)
                if let rest = await serveHTTP(first: first, chunks: &chunks) {
                    transport = .websocket
                    await serveWebSocket(first: rest, chunks: &chunks, context: &context)
                } else {
                    context.closing = .httpServed
                }
            } else {
                transport = .tcp
                services.metrics.opened(.tcp)
                await serveLines(first: first, chunks: &chunks, context: &context)
            }
        }
        // Its messages still being committed reach their rooms before the user leaves them.
        await context.commits.drained()
        if let closing = context.closing { connection.close(closing) }
        let reason = connection.disconnectReason ?? .clientClosed
        if let user = context.user {
            await services.rooms.logout(userID: user.id, reason: reason == .clientClosed ? "disconnected" : reason.rawValue)
        }
        connection.close(reason)
        recordDisconnect(name: context.user?.name, reason: reason, transport: transport)
    }

    // A task keeps the most memory its deepest chain of async calls ever needed (in slabs of about
    // 1 KB), and an idle session keeps it for as long as it is connected. So the async functions
    // here stay small: work that does not wait (logging, encoding) is in synchronous functions,
    // whose locals live on the thread's stack, and each door's reading loop is a function of its own.

    @inline(never)
    private func logConnect() {
        services.log.log(.info, "connect \(connection.peer) #\(connection.id)")
    }

    @inline(never)
    private func recordDisconnect(name: String?, reason: DisconnectReason, transport: ServerMetrics.Transport?) {
        if let transport { services.metrics.closed(transport) }
        services.connectionClosed(reason)
        services.log.log(.info, "disconnect \(name ?? "-") #\(connection.id) \(reason.rawValue)")
    }

    /// JSON lines. Until login, requests are short, few and due within the login timeout.
    @inline(never)
    private func serveLines(first: [UInt8], chunks: inout AsyncStream<[UInt8]>.Iterator, context: inout SessionContext) async {
        let configuration = services.configuration
        var framing = LineFramer(maxLineBytes: min(configuration.loginLineBytes, configuration.maxLineBytes))
        await serve(&framing, first: first, chunks: &chunks, context: &context)
    }

    /// WebSocket messages, after the upgrade; the same limits.
    @inline(never)
    private func serveWebSocket(first: [UInt8], chunks: inout AsyncStream<[UInt8]>.Iterator, context: inout SessionContext) async {
        let configuration = services.configuration
        var framing = WebSocketRequestFraming(connection: connection, maxRequestBytes: min(configuration.loginLineBytes, configuration.maxLineBytes))
        await serve(&framing, first: first, chunks: &chunks, context: &context)
    }

    /// Reads requests until the input ends or the session is closed. Until login, requests are
    /// short, few and due within the login timeout: a connection that never logs in costs little
    /// and not for long.
    @inline(never)
    private func serve<Framing: RequestFraming>(
        _ framing: inout Framing, first: [UInt8], chunks: inout AsyncStream<[UInt8]>.Iterator, context: inout SessionContext
    ) async {
        let configuration = services.configuration
        var linesBeforeLogin = 0
        var limiter = RateLimiter(burst: configuration.rateBurst, perSecond: configuration.ratePerSecond, now: monotonicNanos())
        var next: [UInt8]? = first
        reading: while let chunk = next {
            framing.append(chunk)
            while let frame = framing.nextRequest() {
                switch frame {
                case .tooLarge:
                    send(.frameTooLarge(limit: framing.maxRequestBytes))
                    context.closing = .frameTooLarge
                case .end(let reason):
                    context.closing = reason
                case .request(let line):
                    // One clock read per line serves both the idle rule and the rate limit.
                    let now = monotonicNanos()
                    connection.markActive(at: now)
                    if context.user == nil {
                        linesBeforeLogin += 1
                        if linesBeforeLogin > configuration.loginMaxLines {
                            refuseLinesBeforeLogin()
                            context.closing = .timeout
                            break
                        }
                    }
                    guard await withinRate(&limiter, now: now, context: &context) else { break }
                    let wasLoggedIn = context.user != nil
                    await handle(line, context: &context)
                    if !wasLoggedIn && context.user != nil {
                        connection.clearDeadline()
                        framing.maxRequestBytes = configuration.maxLineBytes
                    }
                case .control:
                    let now = monotonicNanos()
                    connection.markActive(at: now)
                    _ = await withinRate(&limiter, now: now, context: &context)
                }
                if context.closing != nil { break reading }
            }
            connection.didConsume(chunk.count)
            next = await chunks.next(isolation: #isolation)
        }
    }

    /// Takes the rate limit's token for a request. Over the rate, requests wait; a client that
    /// keeps sending while they wait fills its inbound bound and is cut (false) rather than buffered.
    @inline(never)
    private func withinRate(_ limiter: inout RateLimiter, now: UInt64, context: inout SessionContext) async -> Bool {
        guard let wait = limiter.reserve(now: now) else { return true }
        if connection.isReadingPaused {
            send(.rateLimited(retryAfterMilliseconds: Int(wait / 1_000_000) + 1))
            context.closing = .rateLimited
            return false
        }
        try? await Task.sleep(for: .nanoseconds(wait))
        return true
    }

    private func handle(_ line: ArraySlice<UInt8>, context: inout SessionContext) async {
        // A blank line is a keep-alive for people typing into nc, not an error.
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        // Replies go out in request order: anything but a pipelined request first waits until
        // the replies owed to earlier ones have been queued.
        let request: ClientRequest
        switch Envelope.decode(line) {
        case .failure(let failure):
            await reportInOrder(failure.error, id: failure.id, event: nil, context: &context)
            return
        case .success(let decoded):
            request = decoded
        }
        if !dispatcher.isPipelined(request.event) { await context.commits.drained() }
        do {
            if dispatcher.runsInOwnTask(request.event) {
                try await dispatchInOwnTask(request, context: &context)
            } else {
                try await dispatcher.dispatch(request, context: &context)
            }
        } catch {
            await reportInOrder(error, id: request.id, event: request.event, context: &context)
        }
    }

    /// An error reply, once the replies owed to earlier requests are queued.
    @inline(never)
    private func reportInOrder(_ error: ChatError, id: JSONValue?, event: String?, context: inout SessionContext) async {
        await context.commits.drained()
        report(error, id: id, event: event)
    }

    /// Runs a request in a task of its own, on this actor, and waits for it. A task keeps the memory
    /// its deepest call ever needed for as long as it lives; a session lives as long as its
    /// connection, so the rare requests with deep frames (a login, a password, a room's settings)
    /// leave theirs with a task that ends when they do.
    private func dispatchInOwnTask(_ request: ClientRequest, context: inout SessionContext) async throws(ChatError) {
        // The task is made by a synchronous function and its outcome comes back boxed: a task
        // handle and a reference are all this frame holds while it waits.
        let outcome = await ownTask(request, context: context).value
        context = outcome.context
        if let failure = outcome.error { throw failure }
    }

    @inline(never)
    private func ownTask(_ request: ClientRequest, context: SessionContext) -> Task<OwnTaskOutcome, Never> {
        Task(executorPreference: services.executor) {
            var working = context
            do throws(ChatError) {
                try await self.dispatcher.dispatch(request, context: &working)
                return OwnTaskOutcome(context: working, error: nil)
            } catch {
                return OwnTaskOutcome(context: working, error: error)
            }
        }
    }

    /// An error reply to a request, logged.
    @inline(never)
    private func report(_ error: ChatError, id: JSONValue?, event: String?) {
        send(error, id: id)
        if let event {
            services.log.log(.info, "error \(error.code) for \(event.prefix(32)) #\(connection.id)")
        } else {
            services.log.log(.info, "error \(error.code) #\(connection.id)")
        }
    }

    @inline(never)
    private func refuseLinesBeforeLogin() {
        send(.timeout("log in within \(services.configuration.loginMaxLines) requests"))
    }

    /// Sends an error reply, counted for `/metrics`.
    @inline(never)
    private func send(_ error: ChatError, id: JSONValue? = nil) {
        connection.send(ServerEvent.error(error).encoded(id: id))
        services.metrics.error(error.code)
    }
}

/// What a request run in a task of its own leaves: the session's state after it, and its error.
private final class OwnTaskOutcome: Sendable {
    let context: SessionContext
    let error: ChatError?

    init(context: SessionContext, error: ChatError?) {
        self.context = context
        self.error = error
    }
}
