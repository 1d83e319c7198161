/// How hard a commit holds on.
public enum SyncMode: String, Sendable {
    /// Survives the server's crash or `kill -9` (WAL, synchronous=NORMAL).
    case normal
    /// Also survives the OS's crash or a power cut: fsync at each commit (synchronous=FULL).
    case full
}

public struct StoreOptions: Sendable {
    public var sync = SyncMode.normal
    /// Messages kept per room; older ones are pruned in the background. 0 keeps none.
    public var historyLimit = 100_000
    /// Newest messages per room loaded at start for replay.
    public var replayLimit = 1000
    /// Messages the writer lets pile up past the (room, seq) index before it indexes them in one
    /// go (see `MessageIndex`); with fewer, it indexes them after its first commit this many
    /// nanoseconds after the last indexing.
    public var indexEvery = 16_384
    public var indexAfterNanos: UInt64 = 1_000_000_000
    /// The least time from one commit to the next while they come back to back (see `StoreWriter`).
    public var commitIntervalNanos: UInt64 = 400_000

    public init() {}
}
