import ActorChatCore

/// The reasons the chat server ends a connection, beside the transport's own.
extension DisconnectReason {
    public static let frameTooLarge = DisconnectReason(rawValue: "frame_too_large")
    public static let rateLimited = DisconnectReason(rawValue: "rate_limited")
    public static let serverFull = DisconnectReason(rawValue: "server_full")
    public static let logout = DisconnectReason(rawValue: "logout")
    public static let serverShutdown = DisconnectReason(rawValue: "server_shutdown")
    /// The account logged in on another connection.
    public static let sessionReplaced = DisconnectReason(rawValue: "session_replaced")

    /// The reasons `stats` counts, in its order; a logout or a shutdown is no disconnect to count.
    static let counted: [DisconnectReason] = [.clientClosed, .slowConsumer, .frameTooLarge, .rateLimited, .timeout, .serverFull]
}
