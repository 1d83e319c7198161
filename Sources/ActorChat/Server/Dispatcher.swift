import ActorChatCore
import ActorChatProtocol
/// Routes each request to the one handler registered for its event name. Built once, then
/// frozen: the server takes it by value before it starts.
public struct Dispatcher: Sendable {
    /// Runs at once, on the session's actor. Sessions, the rooms and the accounts share one executor, so
    /// such a handler reaches the rooms and the accounts with `fromSession`, with no await.
    public typealias Handler = @Sendable (ClientRequest, inout SessionContext) throws(ChatError) -> Void
    /// Runs in its caller's isolation (the session's actor), so a handler's await on the rooms stays on the session's thread.
    public typealias AsyncHandler = nonisolated(nonsending) @Sendable (ClientRequest, inout SessionContext) async throws(ChatError) -> Void

    /// Who may send an event.
    public enum Access: String, Sendable {
        case anyone
        case loggedIn = "logged_in"
        /// Logged in with the admin token; others get `forbidden`.
        case admin
    }

    /// Does what it can at once, on the session's actor, and returns what must await, if anything:
    /// that part runs in a task of its own.
    public typealias PartialHandler = @Sendable (ClientRequest, inout SessionContext) throws(ChatError) -> AsyncHandler?

    /// How a handler runs. A task keeps the most memory its deepest chain of async calls ever
    /// needed, for as long as it lives, and a session's task lives as long as its connection. So
    /// requests are handled synchronously, and what awaits runs in a task of its own, whose frames
    /// go when it ends: an idle session keeps none of theirs.
    enum Action: Sendable {
        case now(Handler)
        /// At once when it can: a guest's `login`, a `history` page from memory.
        case nowOrLater(PartialHandler)
        case ownTask(AsyncHandler)
    }

    struct Route: Sendable {
        let access: Access
        /// Param names as `help` lists them; an optional one ends in `?`.
        let params: [String]
        /// Its reply comes from a later commit, in order with the session's other pipelined
        /// requests (`SessionContext.commits`); every other request waits for those first.
        let pipelined: Bool
        let action: Action
    }

    private var routes: [String: Route] = [:]

    public init() {}

    /// Registers the synchronous handler for `event`. One handler per event: registering a name
    /// twice is a bug. A `pipelined` handler's reply comes from a later commit (see `Route`).
    public mutating func on(
        _ event: String, params: [String] = [], access: Access = .loggedIn, pipelined: Bool = false, _ handler: @escaping Handler
    ) {
        register(event, Route(access: access, params: params, pipelined: pipelined, action: .now(handler)))
    }

    /// Registers a handler that does what it can at once and returns the part that must await.
    public mutating func onNowOrLater(_ event: String, params: [String] = [], access: Access = .loggedIn, _ handler: @escaping PartialHandler) {
        register(event, Route(access: access, params: params, pipelined: false, action: .nowOrLater(handler)))
    }

    /// Registers a handler that awaits; it runs in a task of its own (see `Action`).
    public mutating func onAwaiting(_ event: String, params: [String] = [], access: Access = .loggedIn, _ handler: @escaping AsyncHandler) {
        register(event, Route(access: access, params: params, pipelined: false, action: .ownTask(handler)))
    }

    private mutating func register(_ event: String, _ route: Route) {
        precondition(routes[event] == nil, "'\(event)' is registered twice")
        routes[event] = route
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

    public var events: [String] { routes.keys.sorted() }

    /// The route for `request`, once its sender may send it: `unknown_event`, `not_logged_in` or
    /// `forbidden` otherwise.
    func route(for request: ClientRequest, context: SessionContext) throws(ChatError) -> Route {
        guard let route = routes[request.event] else {
            throw .unknownEvent(String(request.event.prefix(64)), suggestion: closestEvent(to: request.event))
        }
        if route.access != .anyone && context.user == nil { throw .notLoggedIn }
        if route.access == .admin && context.user?.admin != true { throw .forbidden("'\(request.event)' is for admins") }
        return route
    }
}

/// What a handler sees and may change for one connection.
public struct SessionContext: Sendable {
    public let connection: Connection
    public let services: ServerServices
    /// The account's name key, when the user logged in as (or registered) an account.
    public var account: String?
    /// The session this connection logged in with, or was given at login.
    var session: String?
    /// Set by a handler that ends the session once its reply is queued.
    public var closing: DisconnectReason?
    /// The session's sends still being committed: with a store, a `send`'s reply comes from its
    /// commit. Made by the session's first `send`, so a session that never sends holds none.
    private(set) var commits: CommitBarrier?
    /// Set by `login`; identity is the server's record, never the client's word. Last: its 25
    /// bytes leave the rest of the 8-byte word to the small fields `Session` keeps after it.
    public var user: UserInfo?

    public init(connection: Connection, services: ServerServices) {
        self.connection = connection
        self.services = services
    }

    /// The barrier a `send` hands its commit to.
    mutating func commitBarrier() -> CommitBarrier {
        if let commits { return commits }
        let made = CommitBarrier()
        commits = made
        return made
    }

    /// Whether every send handed over so far has been acted on.
    var commitsDrained: Bool { commits?.isDrained ?? true }

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
