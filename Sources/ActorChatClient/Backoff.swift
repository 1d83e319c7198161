import ActorChatCore
import ActorChatProtocol
/// Reconnect delays: doubling from `initial` up to `maximum`, each with random jitter so many
/// clients that lost the same server do not return in step.
package struct Backoff: Sendable {
    package var initial: Duration
    package var maximum: Duration
    private var attempt = 0

    package init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(10)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The next delay: the exponential step scaled by a factor in 0.75..<1.5, never over `maximum`.
    /// The next step's least (1.5 × this step) is this one's most, so until the cap the delays
    /// never shrink: a countdown shown to a person does not appear to go backwards.
    package mutating func next() -> Duration {
        let step = min(initial * (1 << min(attempt, 20)), maximum)
        attempt += 1
        return min(step * Double.random(in: 0.75..<1.5), maximum)
    }

    package mutating func reset() {
        attempt = 0
    }
}
