import ActorChatCore
import ActorChatProtocol
/// A token bucket: `burst` requests at once, refilled at `perSecond`. A request over the rate is
/// not refused: it reserves the next token and is told how long to wait for it.
struct RateLimiter: Sendable {
    private var tokens: Double
    private var updated: UInt64

    init(burst: Int, now: UInt64) {
        tokens = Double(burst)
        updated = now
    }

    /// Takes a token; returns nil when one was free, else the nanoseconds until the reserved one
    /// is. The rate is the caller's to give: every session has the same, so none keeps a copy.
    mutating func reserve(now: UInt64, burst: Int, perSecond: Double) -> UInt64? {
        if now > updated {
            tokens = min(Double(burst), tokens + Double(now - updated) / 1e9 * perSecond)
            updated = now
        }
        tokens -= 1
        return tokens >= 0 ? nil : UInt64(-tokens / perSecond * 1e9)
    }
}
