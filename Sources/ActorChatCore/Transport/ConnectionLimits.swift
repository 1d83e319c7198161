/// The per-connection bounds the transport enforces.
public struct ConnectionLimits: Sendable {
    /// Bytes queued for a client that does not read before it is cut as a slow consumer.
    public var outboundBytes = 1 << 20
    /// Bytes read but not yet consumed by the session before the loop stops reading.
    public var inboundBytes = 64 << 10
    /// Seconds a client may accept no output at all while output is queued.
    public var writeStallSeconds = 10.0
    /// Seconds a closing connection may take to drain its output before it is cut.
    public var drainSeconds = 5.0
    /// Sent, best effort, to a client cut as a slow consumer.
    public var slowConsumerNotice: [UInt8] = []
    /// Seconds without activity (see `Connection.markActive`) before the loop sends `idlePing`; nil: never.
    public var idlePingSeconds: Double?
    /// Seconds after the ping without activity before the connection is closed as `.timeout`.
    public var idleCloseSeconds = 30.0
    public var idlePing: [UInt8] = []
    /// Sent before a connection is closed for `.timeout` (idle, or past its deadline).
    public var timeoutNotice: [UInt8] = []
    /// Sent instead of `timeoutNotice` when the connection's deadline (`Connection.setDeadline`) passes.
    public var deadlineNotice: [UInt8] = []
    /// The close code a WebSocket client is sent for each reason its connection ends; 1000 otherwise.
    public var webSocketCloseCodes: [DisconnectReason: UInt16] = [
        .slowConsumer: WebSocketFrame.CloseCode.policyViolation,
        .timeout: WebSocketFrame.CloseCode.policyViolation,
        .loopStopped: WebSocketFrame.CloseCode.goingAway,
    ]

    public init() {}
}

/// One set of limits shared by the connections it applies to (a listener's): each connection keeps
/// a reference, not a copy of the notices, codes and figures.
final class SharedConnectionLimits: Sendable {
    let limits: ConnectionLimits

    init(_ limits: ConnectionLimits) {
        // A connection counts its unconsumed input in 32 bits: the bound plus one read must fit.
        precondition(limits.inboundBytes <= Int(Int32.max) / 2, "inboundBytes is at most 1 GiB")
        self.limits = limits
    }
}
