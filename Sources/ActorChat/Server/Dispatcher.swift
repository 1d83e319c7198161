import ActorChatCore
import ActorChatProtocol
/// Routes each request to the one handler registered for its event name. Built once, then
/// frozen: the server takes it by value before it starts.
public struct Dispatcher: Sendable {
    /// Runs in its caller's isolation (the session's actor), so a handler's await on the rooms stays on the session's thread.
    public typealias Handler = nonisolated(nonsending) @Sendable (ClientRequest, inout SessionContext) async throws(ChatError) -> Void

    /// Who may send an event.
    public enum Access: String, Sendable {
        case anyone
        case loggedIn = "logged_in"
        /// Logged in with the admin token; others get `forbidden`.
        case admin
    }

    private struct Route: Sendable {
        let access: Access
        /// Param names as `help` lists them; an optional one ends in `?`.
        let params: [String]
        let pipelined: Bool
        let ownTask: Bool
        let handler: Handler
    }

    private var routes: [String: Route] = [:]

    public init() {}

    /// Registers the handler for `event`. One handler per event: registering a name twice is a bug.
    /// A `pipelined` handler's reply comes from a later commit, in order with the session's other
    /// pipelined requests (`SessionContext.commits`); every other request waits for those first.
    /// An `ownTask` handler runs in a task of its own (see `Session`): for requests that are rare
    /// and need deep frames, whose memory would otherwise stay with every session that sent one.
    public mutating func on(
        _ event: String, params: [String] = [], access: Access = .loggedIn, pipelined: Bool = false, ownTask: Bool = false,
        _ handler: @escaping Handler
    ) {
        precondition(routes[event] == nil, "'\(event)' is registered twice")
        routes[event] = Route(access: access, params: params, pipelined: pipelined, ownTask: ownTask, handler: handler)
    }

    /// Every registered event with its params and who may send it, by name.
    public var descriptions: [EventDescription] {
        routes.keys.sorted().map { EventDescription(event: $0, params: routes[$0]!.params, access: routes[$0]!.access.rawValue) }
    }

    /// The registered event nearest `name` (ignoring case) when it is at most two edits away: the
    /// usual typo, or the right name in the wrong case.
    func closestEvent(to name: String) -> String? {
        let typed = Array(name.lowercased().utf8.prefix(64))
        var best: (event: String, distance: Int)?
        for event in routes.keys.sorted() {
            let distance = Self.editDistance(typed, Array(event.utf8))
            if distance <= 2 && distance < (best?.distance ?? Int.max) { best = (event, distance) }
        }
        return best?.event
    }

    /// Levenshtein distance, one row at a time.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Whether `event`'s reply may follow replies still owed to earlier requests (see `on`).
    public func isPipelined(_ event: String) -> Bool {
        routes[event]?.pipelined ?? false
    }

    /// Whether `event`'s handler runs in a task of its own (see `on`).
    public func runsInOwnTask(_ event: String) -> Bool {
        routes[event]?.ownTask ?? false
    }

    public var events: [String] { routes.keys.sorted() }

    @inline(__always)
    nonisolated(nonsending) public func dispatch(_ request: ClientRequest, context: inout SessionContext) async throws(ChatError) {
        guard let route = routes[request.event] else {
            throw .unknownEvent(String(request.event.prefix(64)), suggestion: closestEvent(to: request.event))
        }
        if route.access != .anyone && context.user == nil { throw .notLoggedIn }
        if route.access == .admin && context.user?.admin != true { throw .forbidden("'\(request.event)' is for admins") }
        try await route.handler(request, &context)
    }
}

/// What a handler sees and may change for one connection.
public struct SessionContext: Sendable {
    public let connection: Connection
    public let services: ServerServices
    /// Set by `login`; identity is the server's record, never the client's word.
    public var user: UserInfo?
    /// The account's name key, when the user logged in as (or registered) an account.
    public var account: String?
    /// The session this connection logged in with, or was given at login.
    var session: String?
    /// Set by a handler that ends the session once its reply is queued.
    public var closing: DisconnectReason?
    /// The session's sends still being committed (with a store).
    public let commits = CommitBarrier()

    public init(connection: Connection, services: ServerServices) {
        self.connection = connection
        self.services = services
    }

    /// The logged-in user; `not_logged_in` otherwise.
    public func loggedInUser() throws(ChatError) -> UserInfo {
        guard let user else { throw .notLoggedIn }
        return user
    }

    /// Queues a reply for this connection, echoing the request's id.
    public func reply(_ event: ServerEvent, to request: ClientRequest) {
        connection.send(event.encoded(id: request.id))
    }
}
