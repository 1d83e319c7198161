/// A listening socket registered with an `EventLoop`; each accepted connection is handed to
/// `onAccept` on the loop thread.
public final class Listener: Sendable {
    public let id: UInt64
    /// The bound address (with the real port when port 0 was asked for).
    public let address: SocketAddress
    let fd: Int32
    let loop: EventLoop
    let limits: SharedConnectionLimits
    let admission: Admission
    let onAccept: @Sendable (Connection) -> Void
    let onEvent: @Sendable (ListenerEvent) -> Void

    init(
        id: UInt64, fd: Int32, address: SocketAddress, loop: EventLoop, limits: ConnectionLimits,
        admission: Admission, onAccept: @escaping @Sendable (Connection) -> Void,
        onEvent: @escaping @Sendable (ListenerEvent) -> Void
    ) {
        self.id = id
        self.fd = fd
        self.address = address
        self.loop = loop
        self.limits = SharedConnectionLimits(limits)
        self.admission = admission
        self.onAccept = onAccept
        self.onEvent = onEvent
    }

    /// Stops accepting and closes the socket; `onEvent(.closed)` follows on the loop thread.
    public func close() {
        loop.post(.closeListener(self))
    }
}

/// Which connections a listener lets in; the rest get `rejectNotice` and are closed at once.
public struct Admission: Sendable {
    /// Connections open at once, across all peers.
    public var maxConnections = Int.max
    /// Connections open at once from one IP address.
    public var maxPerAddress = Int.max
    /// Written, best effort, to a connection refused for either limit.
    public var rejectNotice: [UInt8] = []

    public init() {}
}

/// What a listener reports besides accepted connections.
public enum ListenerEvent: Sendable {
    /// accept failed for lack of descriptors or memory; accepting pauses briefly instead of spinning.
    case acceptPaused(SystemError)
    /// A connection was refused at the connection limit or the per-address limit.
    case rejected(SocketAddress)
    case closed
}
