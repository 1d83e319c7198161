/// Every error the protocol reports: a stable snake_case code and a message a person can act on.
public enum ChatError: Error, Sendable, Equatable {
    case badFrame(String)
    case frameTooLarge(limit: Int)
    /// The event's name, and the known event closest to it, if one is close.
    case unknownEvent(String, suggestion: String? = nil)
    case invalidParams(String)
    case notLoggedIn
    case alreadyLoggedIn
    case invalidName(String)
    case nameTaken(String)
    case invalidRoom(String)
    case invalidLimit(String)
    case roomExists(String)
    case roomNotFound(String)
    case roomFull(room: String, limit: Int)
    case alreadyMember(String)
    case notMember(room: String, user: String?)
    case userNotFound(String)
    case forbidden(String)
    case slowConsumer
    case rateLimited(retryAfterMilliseconds: Int)
    case serverShutdown
    case limitExceeded(String)
    case serverFull
    case timeout(String)
    /// The store could not keep what was asked (disk full, I/O error): nothing of it happened.
    case unavailable(String)
    /// `register` for a name that is registered already (ignoring ASCII case).
    case nameRegistered(String)
    /// A login that could not be proved: the same answer whatever was wrong, so it tells nothing.
    case authFailed(String)
    /// This connection's account logged in elsewhere; the connection is closed.
    case sessionReplaced
    /// The name is banned from the room.
    case banned(room: String)

    /// The stable code clients switch on.
    public var code: String {
        switch self {
        case .badFrame: "bad_frame"
        case .frameTooLarge: "frame_too_large"
        case .unknownEvent: "unknown_event"
        case .invalidParams: "invalid_params"
        case .notLoggedIn: "not_logged_in"
        case .alreadyLoggedIn: "already_logged_in"
        case .invalidName: "invalid_name"
        case .nameTaken: "name_taken"
        case .invalidRoom: "invalid_room"
        case .invalidLimit: "invalid_limit"
        case .roomExists: "room_exists"
        case .roomNotFound: "room_not_found"
        case .roomFull: "room_full"
        case .alreadyMember: "already_member"
        case .notMember: "not_member"
        case .userNotFound: "user_not_found"
        case .forbidden: "forbidden"
        case .slowConsumer: "slow_consumer"
        case .rateLimited: "rate_limited"
        case .serverShutdown: "server_shutdown"
        case .limitExceeded: "limit_exceeded"
        case .serverFull: "server_full"
        case .timeout: "timeout"
        case .unavailable: "unavailable"
        case .nameRegistered: "name_registered"
        case .authFailed: "auth_failed"
        case .sessionReplaced: "session_replaced"
        case .banned: "banned"
        }
    }

    public var message: String {
        switch self {
        case .badFrame(let reason):
            "bad frame: \(reason). A line is one JSON object, for example {\"event\":\"login\",\"params\":{\"name\":\"alice\"}}"
        case .frameTooLarge(let limit): "line longer than \(limit) bytes; the connection is closed"
        case .unknownEvent(let name, let suggestion?): "unknown event '\(name)'; did you mean '\(suggestion)'?"
        case .unknownEvent(let name, nil): "unknown event '\(name)'"
        case .invalidParams(let reason): "invalid params: \(reason)"
        case .notLoggedIn: "log in first: send {\"event\":\"login\",\"params\":{\"name\":...}}"
        case .alreadyLoggedIn: "this connection is already logged in"
        case .invalidName(let reason): "invalid name: \(reason)"
        case .nameTaken(let name): "the name '\(name)' is taken"
        case .invalidRoom(let reason): "invalid room name: \(reason)"
        case .invalidLimit(let reason): "invalid limit: \(reason)"
        case .roomExists(let room): "room '\(room)' already exists"
        case .roomNotFound(let room): "no room named '\(room)'"
        case .roomFull(let room, let limit): "room '\(room)' is full (\(limit)/\(limit))"
        case .alreadyMember(let room): "you are already in room '\(room)'"
        case .notMember(let room, let user?): "'\(user)' is not in room '\(room)'"
        case .notMember(let room, nil): "you are not in room '\(room)'"
        case .userNotFound(let name): "no user named '\(name)' is logged in"
        case .forbidden(let reason): "forbidden: \(reason)"
        case .slowConsumer: "you are not reading fast enough; the connection is closed"
        case .rateLimited(let wait): "too many requests; try again in \(wait) ms"
        case .serverShutdown: "the server is shutting down"
        case .limitExceeded(let reason): "limit exceeded: \(reason)"
        case .serverFull: "the server is full; try again later"
        case .timeout(let reason): "timed out: \(reason)"
        case .unavailable(let reason): "unavailable: \(reason); try again later"
        case .nameRegistered(let name): "the name '\(name)' is registered already"
        case .authFailed(let reason): "authentication failed: \(reason)"
        case .sessionReplaced: "your account logged in from another connection; this one is closed"
        case .banned(let room): "you are banned from room '\(room)'"
        }
    }
}
