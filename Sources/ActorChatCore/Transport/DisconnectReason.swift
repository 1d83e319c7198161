/// Why a connection ended. The transport records the reasons it acts on itself; the layers above
/// add their own (`extension DisconnectReason { static let logout = ... }`), so the transport
/// carries them without knowing what they mean. The raw value is the label in stats and logs.
public struct DisconnectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The peer closed, reset or failed the connection.
    public static let clientClosed = DisconnectReason(rawValue: "client_closed")
    /// Output passed its bound, or the peer accepted none for the write-stall limit.
    public static let slowConsumer = DisconnectReason(rawValue: "slow_consumer")
    /// Idle past the ping and its grace, or past a deadline (`Connection.setDeadline`).
    public static let timeout = DisconnectReason(rawValue: "timeout")
    /// The event loop stopped while the connection was still open.
    public static let loopStopped = DisconnectReason(rawValue: "loop_stopped")

    public var description: String { rawValue }
}
