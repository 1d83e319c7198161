/// The store's figures for `stats`.
public struct StoreStatistics: Sendable {
    public var path = ""
    public var bytes = 0
    public var rows = 0
    public var commits = 0
    public var largestBatch = 0
    public var meanBatch = 0.0
    public var p99CommitMicros = 0
}
