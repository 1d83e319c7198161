/// Reconnect delays: doubling from `initial` up to `maximum`, each with random jitter so many
/// clients that lost the same server do not return in step.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var attempt = 0

    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(10)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The next delay: the exponential step scaled by a factor in 0.5..<1.5, never over `maximum`.
    public mutating func next() -> Duration {
        let step = min(initial * (1 << min(attempt, 20)), maximum)
        attempt += 1
        return min(step * Double.random(in: 0.5..<1.5), maximum)
    }

    public mutating func reset() {
        attempt = 0
    }
}
