/// One connection's life: frames lines from its inbound stream, dispatches each request in order,
/// and on the way out leaves every room so the others hear `user_left` exactly once.
struct Session {
    let connection: Connection
    let services: ServerServices
    let dispatcher: Dispatcher

    func run() async {
        var context = SessionContext(connection: connection, services: services)
        var framer = LineFramer(maxLineBytes: services.configuration.maxLineBytes)
        services.log.log(.info, "connect \(connection.peer) #\(connection.id)")
        reading: for await chunk in connection.inbound {
            framer.append(chunk)
            while let frame = framer.next() {
                switch frame {
                case .tooLarge:
                    connection.send(ServerEvent.error(.frameTooLarge(limit: framer.maxLineBytes)).encoded())
                    context.closing = .frameTooLarge
                case .line(let line):
                    await handle(line, context: &context)
                }
                if context.closing != nil { break reading }
            }
            connection.didConsume(chunk.count)
        }
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
        switch Envelope.decode(line) {
        case .failure(let failure):
            connection.send(ServerEvent.error(failure.error).encoded(id: failure.id))
            services.log.log(.info, "error \(failure.error.code) #\(connection.id)")
        case .success(let request):
            do {
                try await dispatcher.dispatch(request, context: &context)
            } catch {
                connection.send(ServerEvent.error(error).encoded(id: request.id))
                services.log.log(.info, "error \(error.code) for \(request.event.prefix(32)) #\(connection.id)")
            }
        }
    }
}
