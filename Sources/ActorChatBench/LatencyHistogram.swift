import ActorChatClient
import ActorChatCore
import ActorChatProtocol
/// Latencies in fixed buckets: 10 µs wide up to 10 ms, then 1 ms wide up to 10 s (beyond: the
/// last bucket). Histograms from several processes merge by adding counts.
package struct LatencyHistogram: Sendable, Equatable {
    private static let fineBuckets = 1000
    private static let fineWidth: UInt64 = 10_000
    private static let coarseWidth: UInt64 = 1_000_000
    private static let bucketCount = fineBuckets + 9990

    package private(set) var counts: [UInt32]
    package private(set) var total = 0
    package private(set) var maxNanos: UInt64 = 0

    package init() {
        counts = Array(repeating: 0, count: Self.bucketCount)
    }

    package mutating func record(nanos: UInt64) {
        let index = nanos < Self.fineWidth * UInt64(Self.fineBuckets)
            ? Int(nanos / Self.fineWidth)
            : min(Self.bucketCount - 1, Self.fineBuckets + Int((nanos - Self.fineWidth * UInt64(Self.fineBuckets)) / Self.coarseWidth))
        counts[index] &+= 1
        total += 1
        maxNanos = max(maxNanos, nanos)
    }

    package mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        total += other.total
        maxNanos = max(maxNanos, other.maxNanos)
    }

    /// The latency at `fraction` (0.5 for the median), in milliseconds: the upper edge of its bucket.
    package func percentile(_ fraction: Double) -> Double {
        guard total > 0 else { return 0 }
        let rank = Int((Double(total) * fraction).rounded(.up))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += Int(count)
            if seen >= max(1, rank) { return min(Double(Self.upperEdge(index)) / 1e6, Double(maxNanos) / 1e6) }
        }
        return Double(maxNanos) / 1e6
    }

    private static func upperEdge(_ index: Int) -> UInt64 {
        index < fineBuckets ? UInt64(index + 1) * fineWidth
            : fineWidth * UInt64(fineBuckets) + UInt64(index - fineBuckets + 1) * coarseWidth
    }

    /// Non-empty buckets as `[[index, count], ...]`, plus the maximum: compact for JSON.
    package var json: JSONValue {
        let buckets = counts.enumerated().filter { $0.element > 0 }.map {
            JSONValue.array([.number(String($0.offset)), .number(String($0.element))])
        }
        return .object(["buckets": .array(buckets), "max_ns": .number(String(maxNanos))])
    }

    package init?(json: JSONValue) {
        self.init()
        guard let object = json.object, let buckets = object["buckets"]?.array else { return nil }
        for bucket in buckets {
            guard let pair = bucket.array, pair.count == 2, let index = pair[0].integer, let count = pair[1].integer,
                counts.indices.contains(index)
            else { return nil }
            counts[index] = UInt32(clamping: count)
            total += count
        }
        maxNanos = UInt64(object["max_ns"]?.integer ?? 0)
    }
}
