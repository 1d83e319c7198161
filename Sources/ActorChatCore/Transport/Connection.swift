import Synchronization

/// One TCP connection served by an `EventLoop`: inbound bytes arrive on `inbound`, outbound bytes
/// are queued with `send` and written by the loop, coalesced, without the sender ever awaiting.
/// Output travels through the loop's mailbox, so bytes sent to one connection, directly or in a
/// `BroadcastGroup`, arrive in the order they were sent.
public final class Connection: Sendable {
    // One per connection, so the fields are ordered to leave little padding (`fd` fills the word
    // `peer` ends in): the object takes 168 bytes, malloc's 176-byte class (`ObjectSizeTests`).
    public let id: UInt64
    public let peer: SocketAddress
    let fd: Int32
    /// Where the loop delivers what it reads.
    let inboundSink: InboundSink
    let loop: EventLoop
    private let sharedLimits: SharedConnectionLimits
    var limits: ConnectionLimits { sharedLimits.limits }
    let state: Mutex<State>
    /// When the connection last did something that counts as activity (monotonic ns).
    let lastActivity: Atomic<UInt64>
    /// When the connection is closed as `.timeout` unless cleared first (monotonic ns; 0: none).
    let deadline = Atomic<UInt64>(0)
    /// Output the loop holds but has not written yet; only the loop writes it.
    let queued = Atomic<Int>(0)
    /// The loop's state for this connection while it is registered, so a broadcast reaches each
    /// member without a lookup by id. Debug builds check every access is on the loop thread.
    var io: ConnectionIO? {
        get {
            loop.assertOnLoopThread()
            return registeredIO
        }
        set {
            loop.assertOnLoopThread()
            registeredIO = newValue
        }
    }
    // Safe without synchronisation. Every read and write goes through `io`, and only `LoopDriver`
    // calls it: set in `register`, read in its commands, cleared in `teardown`. A `LoopDriver`
    // runs on its loop's one thread, and a connection belongs to one loop for its whole life, so
    // every access is on that thread (`io` asserts it in debug builds). The one access that could
    // come from elsewhere, the release in `deinit`, cannot find a value: while the field is set,
    // the `ConnectionIO` it holds holds this connection, so the connection cannot be deallocated
    // until `teardown` has cleared the field on the loop's thread.
    nonisolated(unsafe) private var registeredIO: ConnectionIO?

    struct State {
        /// Bytes read and not yet consumed: at most the inbound limit and one read. 32 bits, so
        /// the flags share its word and the connection fits its malloc class.
        var inboundQueued: Int32 = 0
        var closing = false
        var readingPaused = false
        var reason: DisconnectReason?
        /// Sent instead of `limits.deadlineNotice` when the deadline passes (an HTTP 408, say).
        var deadlineNotice: [UInt8]?
    }

    /// Where input goes: to `inbound`, or to a handler on the loop thread.
    enum InboundSink: Sendable {
        case stream(AsyncStream<[UInt8]>, AsyncStream<[UInt8]>.Continuation)
        /// No copy, no task hop, and no backpressure (the handler must keep up). Nil marks the end of input.
        case handler(@Sendable (UnsafeRawBufferPointer?) -> Void)
    }

    init(
        id: UInt64, fd: Int32, peer: SocketAddress, loop: EventLoop, limits: SharedConnectionLimits,
        readHandler: (@Sendable (UnsafeRawBufferPointer?) -> Void)? = nil
    ) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.loop = loop
        sharedLimits = limits
        inboundSink = readHandler.map { .handler($0) } ?? {
            let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
            return .stream(stream, continuation)
        }()
        state = Mutex(State())
        lastActivity = Atomic(monotonicNanos())
    }

    /// Chunks as read from the socket; finishes when the peer closes or the connection is closed.
    /// Empty for a connection whose input goes to a handler.
    public var inbound: AsyncStream<[UInt8]> {
        switch inboundSink {
        case .stream(let stream, _): stream
        case .handler: AsyncStream { $0.finish() }
        }
    }

    /// Ends `inbound`, for a connection that never got to read.
    func finishInbound() {
        if case .stream(_, let continuation) = inboundSink { continuation.finish() }
    }

    /// Records activity at `now` (monotonic ns), which postpones the idle ping and the idle timeout.
    public func markActive(at now: UInt64 = monotonicNanos()) {
        lastActivity.store(now, ordering: .relaxed)
    }

    /// Closes the connection as `.timeout` (after `deadlineNotice`) once `seconds` pass, unless
    /// `clearDeadline` comes first. Activity does not postpone it.
    public func setDeadline(in seconds: Double) {
        deadline.store(monotonicNanos() + UInt64(seconds * 1e9), ordering: .relaxed)
    }

    /// What the client is sent when its deadline passes; nil: `limits.deadlineNotice`.
    public func setDeadlineNotice(_ notice: [UInt8]?) {
        state.withLock { $0.deadlineNotice = notice }
    }

    public func clearDeadline() {
        deadline.store(0, ordering: .relaxed)
    }

    /// Queues bytes for the client. Never blocks on the socket; past the outbound limit the
    /// connection is cut as a slow consumer instead of growing.
    public func send(_ bytes: [UInt8]) {
        loop.post(.write(self, bytes))
    }

    /// Frames everything sent from now on for WebSocket (see `WebSocketFrame`). Bytes sent before
    /// this, such as the handshake's response, go out as they are.
    /// `masked` is the client's side: frames carry a zero mask key (see `WebSocketFrame`).
    public func upgradeToWebSocket(masked: Bool = false) {
        loop.post(.upgradeToWebSocket(self, masked: masked))
    }

    /// Queues a WebSocket control frame (a pong, or the close that answers the client's).
    public func sendWebSocketControl(_ opcode: WebSocketFrame.Opcode, payload: [UInt8]) {
        loop.post(.writeFrame(self, WebSocketFrame.frame(opcode, payload: payload), closes: opcode == .close))
    }

    /// Closes the connection. `flush` writes queued output first (bounded by the drain deadline).
    /// The first reason given is the one recorded; later calls are harmless.
    public func close(_ reason: DisconnectReason, flush: Bool = true) {
        let first = state.withLock { state -> Bool in
            state.reason = state.reason ?? reason
            defer { state.closing = true }
            return !state.closing
        }
        if first || !flush { loop.post(.close(self, flush ? .drain : .abort)) }
    }

    /// Tells the loop the session has processed `count` inbound bytes, so reading may resume.
    public func didConsume(_ count: Int) {
        let resume = state.withLock { state -> Bool in
            state.inboundQueued -= Int32(count)
            guard state.readingPaused, state.inboundQueued <= limits.inboundBytes / 2 else { return false }
            state.readingPaused = false
            return true
        }
        if resume { loop.post(.resumeReading(self)) }
    }

    /// Why the connection ended, once it has (or is ending).
    public var disconnectReason: DisconnectReason? { state.withLock { $0.reason } }

    /// Bytes queued for this client and not yet written.
    public var queuedBytes: Int { queued.load(ordering: .relaxed) }

    /// True while reading is paused because the session has not consumed enough input.
    public var isReadingPaused: Bool { state.withLock { $0.readingPaused } }
}
