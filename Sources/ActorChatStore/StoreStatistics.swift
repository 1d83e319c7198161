/// The store's figures for `stats`.
public struct StoreStatistics: Sendable {
    public var path = ""
    public var bytes = 0
    public var rows = 0
    public var commits = 0
    public var largestBatch = 0
    public var meanBatch = 0.0
    public var p99CommitMicros = 0

    /// The upper bounds of the commit-time histogram, in µs.
    public static let commitBoundsMicros = [100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100_000, 250_000, 1_000_000]
}

/// Commits by time, for `/metrics`: cheap to read, with no query.
public struct CommitHistogram: Sendable {
    /// A count per bound of `StoreStatistics.commitBoundsMicros`, then one for slower commits.
    public var counts: [Int]
    public var totalMicros: Int
}
