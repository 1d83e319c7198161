import ActorChatCore
import ActorChatProtocol
/// A token bucket: `burst` requests at once, refilled at `perSecond`. A request over the rate is
/// not refused: it reserves the next token and is told how long to wait for it.
struct RateLimiter: Sendable {
    let burst: Double
    let perSecond: Double
    private var tokens: Double
    private var updated: UInt64

    init(burst: Int, perSecond: Double, now: UInt64) {
        self.burst = Double(burst)
        self.perSecond = perSecond
        tokens = Double(burst)
        updated = now
    }

    /// Takes a token; returns nil when one was free, else the nanoseconds until the reserved one is.
    mutating func reserve(now: UInt64) -> UInt64? {
        if now > updated {
            tokens = min(burst, tokens + Double(now - updated) / 1e9 * perSecond)
            updated = now
        }
        tokens -= 1
        return tokens >= 0 ? nil : UInt64(-tokens / perSecond * 1e9)
    }
}
