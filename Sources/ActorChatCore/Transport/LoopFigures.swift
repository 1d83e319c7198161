/// What an event loop has done, for metrics. The loop counts in plain integers on its own thread
/// and publishes a copy four times a second, so counting costs no atomic and no lock per write.
public struct LoopFigures: Sendable {
    /// Turns of the loop: one `epoll_wait` and what it woke for.
    public var turns = 0
    /// Writes (`send`/`sendmsg`) that moved bytes, and the bytes they moved.
    public var writes = 0
    public var bytesWritten = 0
    /// Writes by size: a count per upper bound of `writeSizeBounds`, then one for larger writes.
    public var writeSizes = [Int](repeating: 0, count: Self.writeSizeBounds.count + 1)
    /// Broadcasts by the time from the room's send until the loop had written the last member's
    /// bytes (or found its socket full): a count per upper bound of `fanoutBounds`, then the rest.
    public var fanoutTimes = [Int](repeating: 0, count: Self.fanoutBounds.count + 1)
    public var fanoutNanos: UInt64 = 0

    public static let writeSizeBounds = [64, 256, 1024, 4096, 16384, 65536, 262_144]
    public static let fanoutBounds: [UInt64] = [
        50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000,
        250_000_000, 1_000_000_000,
    ]

    public init() {}

    mutating func recordWrite(_ bytes: Int) {
        writes += 1
        bytesWritten += bytes
        var bucket = 0
        while bucket < Self.writeSizeBounds.count && bytes > Self.writeSizeBounds[bucket] { bucket += 1 }
        writeSizes[bucket] += 1
    }

    mutating func recordFanout(_ nanos: UInt64) {
        fanoutNanos += nanos
        var bucket = 0
        while bucket < Self.fanoutBounds.count && nanos > Self.fanoutBounds[bucket] { bucket += 1 }
        fanoutTimes[bucket] += 1
    }
}
