/// The loop's own record of a connection: its phase, its write state and its unwritten output.
/// Only the loop thread touches it.
final class ConnectionIO {
    /// Where the connection is in its life. Each phase carries what only it needs, so that, say, a
    /// drain without a deadline or a connect that is also closing cannot be written down.
    enum Phase {
        /// A connect in progress; the continuation is resumed once, when it completes or fails.
        case connecting(CheckedContinuation<Void, any Error>)
        case open
        /// Writing what is queued, then closing; cut at `deadline` (monotonic ns) if not done.
        case draining(deadline: UInt64)
        /// Output written and the write side shut: reading, and discarding, until the peer closes.
        case lingering
    }

    /// Whether the socket takes output now.
    enum WriteState {
        /// The kernel took all it was given, or has reported room since it refused. `stalledSince`
        /// is when output last made progress while more waited; nil when nothing is stuck.
        case ready(stalledSince: UInt64?)
        /// The last write would have blocked: nothing more is tried until EPOLLOUT.
        case blocked(stalledSince: UInt64)
    }

    let connection: Connection
    var id: UInt64 { connection.id }
    var phase: Phase {
        didSet { notePhase() }
    }
    /// The phase's kind, kept beside it: a broadcast checks `isClosing` for every recipient, and
    /// reading it from `phase` copies the enum (with its continuation) through the runtime each time.
    private(set) var isConnecting = false
    private(set) var isLingering = false
    /// Draining or lingering: no new output is taken.
    private(set) var isClosing = false
    // One per connection, so the flags fill the gaps the 9-byte phase and the 10-byte write state
    // leave before the next 8-byte field: the object takes 120 bytes, malloc's 128-byte class
    // rather than the 144-byte one (`ObjectSizeTests`).
    /// Counted in the per-address tally (accepted, not connected out).
    let countsTowardsAdmission: Bool
    /// In the write queue, waiting for its turn.
    var dirty = false
    var inputEnded = false
    var wroteSinceSweep = false
    var writeState = WriteState.ready(stalledSince: nil)
    /// Output is framed for WebSocket: each line a text frame, the idle ping a ping frame, and a
    /// close frame before the close.
    var isWebSocket = false
    /// The client's side of WebSocket: frames carry a (zero) mask key. Only load generators use it.
    var masksFrames = false
    /// A WebSocket close frame is queued: nothing more is framed after it.
    var closeFrameSent = false
    /// Output not yet written.
    var output = OutboundBuffer()
    /// `connection.limits.outboundBytes`, kept here because a broadcast checks it for every member
    /// and the connection's own line is then one more cache miss per member.
    let outboundLimit: Int
    /// The last count stored in `connection.queued`.
    var publishedQueued = 0
    /// When the idle ping went out (monotonic ns); 0 while the client has been active since.
    var pingedAt: UInt64 = 0

    init(connection: Connection, phase: Phase, countsTowardsAdmission: Bool) {
        self.connection = connection
        self.phase = phase
        self.countsTowardsAdmission = countsTowardsAdmission
        outboundLimit = connection.limits.outboundBytes
        notePhase()
    }

    private func notePhase() {
        switch phase {
        case .connecting: (isConnecting, isLingering, isClosing) = (true, false, false)
        case .open: (isConnecting, isLingering, isClosing) = (false, false, false)
        case .draining: (isConnecting, isLingering, isClosing) = (false, false, true)
        case .lingering: (isConnecting, isLingering, isClosing) = (false, true, true)
        }
    }

    var stalledSince: UInt64? {
        switch writeState {
        case .ready(let since): since
        case .blocked(let since): since
        }
    }
}

/// The loop's record of a listener.
final class ListenerIO {
    let listener: Listener
    var id: UInt64 { listener.id }

    init(listener: Listener) {
        self.listener = listener
    }
}
