import ActorChatCore
import ActorChatProtocol
/// One connection's life: frames lines from its inbound stream, dispatches each request in order,
/// and on the way out leaves every room so the others hear `user_left` exactly once. An actor on
/// the `SessionExecutor` it shares with the `RoomManager`, so its awaits on the rooms do not switch threads.
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
        // Until login, lines are short, few and due within the login timeout: a connection that
        // never logs in costs little and not for long.
        var framer = LineFramer(maxLineBytes: min(configuration.loginLineBytes, configuration.maxLineBytes))
        var linesBeforeLogin = 0
        var limiter = RateLimiter(burst: configuration.rateBurst, perSecond: configuration.ratePerSecond, now: monotonicNanos())
        connection.setDeadline(in: configuration.loginTimeoutSeconds)
        services.log.log(.info, "connect \(connection.peer) #\(connection.id)")
        reading: for await chunk in connection.inbound {
            framer.append(chunk)
            while let frame = framer.next() {
                switch frame {
                case .tooLarge:
                    connection.send(ServerEvent.error(.frameTooLarge(limit: framer.maxLineBytes)).encoded())
                    context.closing = .frameTooLarge
                case .line(let line):
                    // One clock read per line serves both the idle rule and the rate limit.
                    let now = monotonicNanos()
                    connection.markActive(at: now)
                    if context.user == nil {
                        linesBeforeLogin += 1
                        if linesBeforeLogin > configuration.loginMaxLines {
                            connection.send(ServerEvent.error(.timeout("log in within \(configuration.loginMaxLines) requests")).encoded())
                            context.closing = .timeout
                            break
                        }
                    }
                    if let wait = limiter.reserve(now: now) {
                        // Over the rate, requests wait; a client that keeps sending while they wait
                        // fills its inbound bound and is cut rather than buffered.
                        if connection.isReadingPaused {
                            connection.send(ServerEvent.error(.rateLimited(retryAfterMilliseconds: Int(wait / 1_000_000) + 1)).encoded())
                            context.closing = .rateLimited
                            break
                        }
                        try? await Task.sleep(for: .nanoseconds(wait))
                    }
                    let wasLoggedIn = context.user != nil
                    await handle(line, context: &context)
                    if !wasLoggedIn && context.user != nil {
                        connection.clearDeadline()
                        framer.maxLineBytes = configuration.maxLineBytes
                    }
                }
                if context.closing != nil { break reading }
            }
            connection.didConsume(chunk.count)
        }
        // Its messages still being committed reach their rooms before the user leaves them.
        await context.commits.drained()
        if let closing = context.closing { connection.close(closing) }
        let reason = connection.disconnectReason ?? .clientClosed
        if let user = context.user {
            await services.rooms.logout(userID: user.id, reason: reason == .clientClosed ? "disconnected" : reason.rawValue)
        }
        connection.close(reason)
        services.connectionClosed(reason)
        services.log.log(.info, "disconnect \(context.user?.name ?? "-") #\(connection.id) \(reason.rawValue)")
    }

    private func handle(_ line: ArraySlice<UInt8>, context: inout SessionContext) async {
        // A blank line is a keep-alive for people typing into nc, not an error.
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        // Replies go out in request order: anything but a pipelined request first waits until
        // the replies owed to earlier ones have been queued.
        switch Envelope.decode(line) {
        case .failure(let failure):
            await context.commits.drained()
            connection.send(ServerEvent.error(failure.error).encoded(id: failure.id))
            services.log.log(.info, "error \(failure.error.code) #\(connection.id)")
        case .success(let request):
            if !dispatcher.isPipelined(request.event) { await context.commits.drained() }
            do {
                try await dispatcher.dispatch(request, context: &context)
            } catch {
                await context.commits.drained()
                connection.send(ServerEvent.error(error).encoded(id: request.id))
                services.log.log(.info, "error \(error.code) for \(request.event.prefix(32)) #\(connection.id)")
            }
        }
    }
}
