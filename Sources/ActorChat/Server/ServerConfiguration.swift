import ActorChatCore
import ActorChatProtocol
import ActorChatStore

/// Everything an operator can set. Defaults are the documented limits in docs/PROTOCOL.md.
public struct ServerConfiguration: Sendable {
    public var host = "::"
    public var port = 7777
    /// Rooms that exist from the start (the operator's; only an admin may close them). A nil
    /// limit is `defaultRoomLimit`, or the highest allowed limit if that is lower.
    public var initialRooms: [(name: String, limit: Int?)] = [("lobby", nil)]
    public static let defaultRoomLimit = 1000
    public var adminToken: String?
    public var logLevel = LogLevel.info
    public var rooms = RoomManager.Limits()
    public var maxLineBytes = 64 << 10
    public var maxTextBytes = 4096
    public var outboundLimitBytes = 1 << 20
    public var writeStallSeconds = 10.0
    /// How long shutdown waits for queued output to reach clients.
    public var shutdownSeconds = 5.0
    /// Before login: the time allowed, the longest line and the most lines.
    public var loginTimeoutSeconds = 10.0
    public var loginLineBytes = 4096
    public var loginMaxLines = 20
    /// Requests per connection: a burst, then a steady rate; over it requests wait.
    public var rateBurst = 20
    public var ratePerSecond = 10.0
    /// Quiet seconds before the server pings a client, and after the ping before it gives up.
    public var idlePingSeconds = 30.0
    public var idleTimeoutSeconds = 30.0
    /// Connections at once; nil: the process's descriptor limit less 64 kept in reserve.
    public var maxConnections: Int?
    public var maxConnectionsPerAddress = 64
    /// Where the store keeps its files; nil (`--memory`) runs without one, as a server that
    /// forgets everything at restart.
    public var dataDirectory: String? = "./actor-chat-data"
    public var sync = SyncMode.normal
    /// Messages the store lets pile up before it indexes them in bulk (tests make it small).
    package var storeIndexEvery = StoreOptions().indexEvery
    public var accounts = AccountSettings()
    /// The largest HTTP request head read (request line and headers).
    public var maxHTTPHeadBytes = 8192
    /// Origins, beside the page's own, whose browser pages may open a WebSocket (`scheme://host[:port]`).
    public var allowedOrigins: [String] = []
    /// A request with `Authorization: Bearer` and this token may read `/metrics` from anywhere;
    /// without one, only loopback may.
    public var metricsToken: String?

    public init() {}
}
