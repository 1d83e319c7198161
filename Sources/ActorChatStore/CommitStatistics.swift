/// What the writer counts per commit, cheaply: the p99 is worked out only when asked.
struct CommitStatistics {
    private(set) var commits = 0
    private(set) var operations = 0
    private(set) var largestBatch = 0
    /// The newest commit times (µs), a ring of `window`.
    private var recentMicros: [Int] = []
    private var next = 0
    private static let window = 4096
    /// Commits by time: a count per upper bound of `StoreStatistics.commitBoundsMicros`, then the rest.
    private(set) var buckets = [Int](repeating: 0, count: StoreStatistics.commitBoundsMicros.count + 1)
    private(set) var totalMicros = 0

    mutating func record(batch size: Int, micros: Int) {
        commits += 1
        operations += size
        largestBatch = max(largestBatch, size)
        totalMicros += micros
        var bucket = 0
        while bucket < StoreStatistics.commitBoundsMicros.count && micros > StoreStatistics.commitBoundsMicros[bucket] { bucket += 1 }
        buckets[bucket] += 1
        if recentMicros.count < Self.window {
            recentMicros.append(micros)
        } else {
            recentMicros[next] = micros
            next = (next + 1) % Self.window
        }
    }

    var meanBatch: Double { commits == 0 ? 0 : Double(operations) / Double(commits) }

    /// The 99th percentile of the newest commits' times.
    var p99Micros: Int {
        guard !recentMicros.isEmpty else { return 0 }
        return recentMicros.sorted()[(recentMicros.count - 1) * 99 / 100]
    }
}
