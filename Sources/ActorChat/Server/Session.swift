import ActorChatCore
import ActorChatProtocol
/// One connection's life: frames requests from its inbound stream (JSON lines, or WebSocket
/// messages after an HTTP upgrade), dispatches each request in order, and on the way out leaves
/// every room so the others hear `user_left` exactly once. An actor on the `SessionExecutor` it
/// shares with the `RoomManager`, so it reaches the rooms without a hop.
///
/// A task keeps the most memory its deepest chain of async calls ever needed (in slabs of about
/// 1 KB), and an idle session keeps it for as long as it is connected. So a session's state lives
/// here, in the actor, its requests are handled by synchronous functions, and its async functions
/// only wait: for input, for the rate limit, for its commits, or for a handler that awaits.
actor Session {
    let services: ServerServices
    let dispatcher: Dispatcher
    // One per connection, so ordered to leave no padding: the two small fields fill the word the
    // context ends in, and the session takes 152 bytes, malloc's 160-byte class (`ObjectSizeTests`).
    /// What the handlers see and change.
    private var context: SessionContext
    /// Whether the login has raised the request size limit and ended the login deadline.
    private var loginLimitsRaised = false
    private var linesBeforeLogin: Int32 = 0
    /// The server's rate, `services.configuration`'s, is not copied into every session.
    private var limiter: RateLimiter

    init(connection: Connection, services: ServerServices, dispatcher: Dispatcher) {
        self.services = services
        self.dispatcher = dispatcher
        context = SessionContext(connection: connection, services: services)
        limiter = RateLimiter(burst: services.configuration.rateBurst, now: monotonicNanos())
    }

    /// The context's: a second reference here would be 8 more bytes in every session.
    var connection: Connection { context.connection }

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        services.executor.asUnownedSerialExecutor()
    }

    func run() async {
        var chunks = connection.inbound.makeAsyncIterator()
        begin()
        // One look at the first bytes: an HTTP request line starts with an upper-case method, a
        // request of the protocol with `{` or a blank. After this, a TCP client pays nothing for it.
        var transport: ServerMetrics.Transport?
        if let first = await chunks.next(isolation: #isolation) {
            if WebGateway.looksLikeHTTP(first) {
                transport = .http
                services.metrics.opened(.http)
                if let rest = await serveHTTP(first: first, chunks: &chunks) {
                    transport = .websocket
                    await serveWebSocket(first: consume rest, chunks: &chunks)
                } else {
                    context.closing = .httpServed
                }
            } else {
                transport = .tcp
                services.metrics.opened(.tcp)
                await serveLines(first: consume first, chunks: &chunks)
            }
        }
        // Its messages still being committed reach their rooms before the user leaves them.
        await context.commits?.drained()
        end(transport: transport)
    }

    /// Starts the login deadline and logs the connection.
    @inline(never)
    private func begin() {
        connection.setDeadline(in: services.configuration.loginTimeoutSeconds)
        services.log.log(.info, "connect \(connection.peer) #\(connection.id)")
    }

    @inline(never)
    private func end(transport: ServerMetrics.Transport?) {
        if let closing = context.closing { connection.close(closing) }
        let reason = connection.disconnectReason ?? .clientClosed
        if let user = context.user {
            services.rooms.fromSession { rooms in rooms.logout(userID: user.id, reason: reason == .clientClosed ? "disconnected" : reason.rawValue) }
        }
        connection.close(reason)
        if let transport { services.metrics.closed(transport) }
        services.connectionClosed(reason)
        services.log.log(.info, "disconnect \(context.user?.name ?? "-") #\(connection.id) \(reason.rawValue)")
    }

    /// JSON lines. Until login, requests are short, few and due within the login timeout: a
    /// connection that never logs in costs little and not for long.
    @inline(never)
    private func serveLines(first: consuming [UInt8], chunks: inout AsyncStream<[UInt8]>.Iterator) async {
        let configuration = services.configuration
        var framing = LineFramer(maxLineBytes: min(configuration.loginLineBytes, configuration.maxLineBytes))
        await serve(&framing, first: consume first, chunks: &chunks)
    }

    /// WebSocket messages, after the upgrade; the same limits.
    @inline(never)
    private func serveWebSocket(first: consuming [UInt8], chunks: inout AsyncStream<[UInt8]>.Iterator) async {
        let configuration = services.configuration
        var framing = WebSocketRequestFraming(connection: connection, maxRequestBytes: min(configuration.loginLineBytes, configuration.maxLineBytes))
        await serve(&framing, first: consume first, chunks: &chunks)
    }

    /// Reads requests until the input ends or the session is closed.
    @inline(never)
    private func serve<Framing: RequestFraming>(_ framing: inout Framing, first: consuming [UInt8], chunks: inout AsyncStream<[UInt8]>.Iterator) async {
        var chunk = consume first
        while true {
            let size = chunk.count
            framing.append(chunk)
            // The framing holds what it still needs; an idle session holds no input.
            chunk = []
            while let awaited = handleRequests(&framing) {
                await complete(awaited)
            }
            if context.closing != nil { return }
            connection.didConsume(size)
            guard let next = await chunks.next(isolation: #isolation) else { return }
            chunk = next
        }
    }

    /// Handles the framed requests in order, as far as it can without waiting. Returns the first
    /// one that must wait (see `Awaited`), or nil once the input so far is used up or the session
    /// is closing.
    @inline(never)
    private func handleRequests<Framing: RequestFraming>(_ framing: inout Framing) -> Awaited? {
        while context.closing == nil {
            if !loginLimitsRaised && context.user != nil {
                loginLimitsRaised = true
                connection.clearDeadline()
                framing.maxRequestBytes = services.configuration.maxLineBytes
            }
            guard let frame = framing.nextRequest() else { return nil }
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
                    if linesBeforeLogin > services.configuration.loginMaxLines {
                        refuseLinesBeforeLogin()
                        context.closing = .timeout
                        return nil
                    }
                }
                if let wait = reserveToken(now: now) { return overRate(wait, line: line) }
                if let awaited = handleNow(line) { return awaited }
            case .control:
                let now = monotonicNanos()
                connection.markActive(at: now)
                if let wait = reserveToken(now: now) { return overRate(wait, line: nil) }
            }
        }
        return nil
    }

    /// The rate limit's token for a request or control frame at `now`; see `RateLimiter.reserve`.
    private func reserveToken(now: UInt64) -> UInt64? {
        limiter.reserve(now: now, burst: services.configuration.rateBurst, perSecond: services.configuration.ratePerSecond)
    }

    /// Over the rate, requests wait. A client that keeps sending while they wait fills its inbound
    /// bound and is cut rather than buffered.
    private func overRate(_ wait: UInt64, line: ArraySlice<UInt8>?) -> Awaited? {
        guard connection.isReadingPaused else { return Awaited(.rateLimit(wait: wait, line: line)) }
        send(.rateLimited(retryAfterMilliseconds: Int(wait / 1_000_000) + 1))
        context.closing = .rateLimited
        return nil
    }

    /// Handles a request as far as it can without waiting: decodes it, checks who may send it, and
    /// runs its handler's synchronous part. Replies go out in request order, so anything but a
    /// pipelined request, and any error reply, waits until the replies owed to earlier requests
    /// are queued.
    @inline(never)
    private func handleNow(_ line: ArraySlice<UInt8>) -> Awaited? {
        // A blank line is a keep-alive for people typing into nc, not an error.
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        let request: ClientRequest
        switch Envelope.decode(line) {
        case .failure(let failure):
            return reportNow(failure.error, id: failure.id, event: nil)
        case .success(let decoded):
            request = decoded
        }
        do throws(ChatError) {
            let route = try dispatcher.route(for: request, context: context)
            guard route.pipelined || context.commitsDrained else { return Awaited(.request(request, route.action)) }
            return try runNow(request, route.action)
        } catch {
            return reportNow(error, id: request.id, event: request.event)
        }
    }

    /// Runs a handler's synchronous part; returns the part that awaits.
    private func runNow(_ request: ClientRequest, _ action: Dispatcher.Action) throws(ChatError) -> Awaited? {
        switch action {
        case .now(let handler):
            try handler(request, &context)
            return nil
        case .nowOrLater(let handler):
            guard let later = try handler(request, &context) else { return nil }
            return Awaited(.request(request, .ownTask(later)))
        case .ownTask:
            return Awaited(.request(request, action))
        }
    }

    private func reportNow(_ error: ChatError, id: JSONValue?, event: String?) -> Awaited? {
        guard context.commitsDrained else { return Awaited(.report(error, id: id, event: event)) }
        report(error, id: id, event: event)
        return nil
    }

    /// Finishes a request `handleRequests` could not. What needs no await is done by synchronous
    /// functions, and each kind of wait has a function of its own, so this frame, which every
    /// session that ever waited here keeps, holds little more than a reference.
    @inline(never)
    private func complete(_ awaited: Awaited) async {
        var next: Awaited? = awaited
        if let wait = awaited.rateLimitWait {
            await sleep(nanoseconds: wait)
            next = handleAfterWait(awaited)
        }
        while let current = next {
            await context.commits?.drained()
            next = current.runsInOwnTask ? await runInOwnTask(current) : performNow(current)
        }
    }

    @inline(never)
    private func sleep(nanoseconds: UInt64) async {
        try? await Task.sleep(for: .nanoseconds(nanoseconds))
    }

    /// The request that waited out the rate limit.
    @inline(never)
    private func handleAfterWait(_ awaited: Awaited) -> Awaited? {
        guard case .rateLimit(_, let line?) = awaited.kind else { return nil }
        return handleNow(line)
    }

    /// Sends a waiting error reply, or runs a waiting handler's synchronous part. Returns what is
    /// left: the part that awaits, or the handler's error reply.
    @inline(never)
    private func performNow(_ awaited: Awaited) -> Awaited? {
        switch awaited.kind {
        case .rateLimit:
            preconditionFailure("a rate limit's wait is over before its request is handled")
        case .report(let error, let id, let event):
            report(error, id: id, event: event)
            return nil
        case .request(let request, let action):
            do throws(ChatError) { return try runNow(request, action) } catch {
                return Awaited(.report(error, id: request.id, event: request.event))
            }
        }
    }

    /// Runs a request in a task of its own, on this actor, and waits for it. A task keeps the
    /// memory its deepest call ever needed for as long as it lives; a session lives as long as its
    /// connection, so the requests that await (an account's login, a password, a room's settings)
    /// leave theirs with a task that ends when they do. Returns the handler's error reply.
    @inline(never)
    private func runInOwnTask(_ awaited: Awaited) async -> Awaited? {
        adopt(await ownTask(awaited).value)
    }

    /// The task is made by a synchronous function and its outcome comes back boxed: a task handle
    /// and a reference are all the waiting frame holds.
    @inline(never)
    private func ownTask(_ awaited: Awaited) -> Task<OwnTaskOutcome, Never> {
        guard case .request(let request, .ownTask(let handler)) = awaited.kind else {
            preconditionFailure("only a request whose handler awaits runs in a task of its own")
        }
        let context = context
        return Task(executorPreference: services.executor) { await self.runHandler(handler, request, context: context) }
    }

    private func runHandler(_ handler: Dispatcher.AsyncHandler, _ request: ClientRequest, context: SessionContext) async -> OwnTaskOutcome {
        var working = context
        do throws(ChatError) {
            try await handler(request, &working)
            return OwnTaskOutcome(context: working, failed: nil)
        } catch {
            return OwnTaskOutcome(context: working, failed: Awaited(.report(error, id: request.id, event: request.event)))
        }
    }

    /// Takes the session's state back from a task of its own; its error reply, if it failed.
    @inline(never)
    private func adopt(_ outcome: OwnTaskOutcome) -> Awaited? {
        context = outcome.context
        return outcome.failed
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

/// A request that must wait before it can be finished. A class, so the frames that wait hold only
/// a reference.
private final class Awaited: Sendable {
    enum Kind: Sendable {
        /// Over the rate limit: wait, then handle the line (nil for a WebSocket control frame).
        case rateLimit(wait: UInt64, line: ArraySlice<UInt8>?)
        /// A handler that awaits, or any handler behind replies still owed to earlier requests.
        case request(ClientRequest, Dispatcher.Action)
        /// An error reply behind replies still owed to earlier requests.
        case report(ChatError, id: JSONValue?, event: String?)
    }

    let kind: Kind

    init(_ kind: Kind) {
        self.kind = kind
    }

    var rateLimitWait: UInt64? {
        guard case .rateLimit(let wait, _) = kind else { return nil }
        return wait
    }

    var runsInOwnTask: Bool {
        guard case .request(_, .ownTask) = kind else { return false }
        return true
    }
}

/// What a request run in a task of its own leaves: the session's state after it, and its error reply.
private final class OwnTaskOutcome: Sendable {
    let context: SessionContext
    let failed: Awaited?

    init(context: SessionContext, failed: Awaited?) {
        self.context = context
        self.failed = failed
    }
}
