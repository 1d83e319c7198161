/// The brakes on guessing and on sign-ups: failed logins counted per name and per address over a
/// window, and registrations per address as a token bucket. Times are monotonic nanoseconds.
struct LoginThrottle {
    let settings: AccountSettings
    private var windowNanos: UInt64 { UInt64(settings.failureWindowSeconds * 1e9) }
    private var failuresByName: [String: [UInt64]] = [:]
    private var failuresByAddress: [String: [UInt64]] = [:]
    private var registrations: [String: (tokens: Double, at: UInt64)] = [:]

    init(settings: AccountSettings) {
        self.settings = settings
    }

    /// How long (ms) a login for `name` from `address` must wait, or nil when it may go ahead.
    mutating func loginWait(name: String, address: String, now: UInt64) -> Int? {
        let byName = Self.wait(&failuresByName, name, limit: settings.failuresPerName, window: windowNanos, now: now)
        let byAddress = Self.wait(&failuresByAddress, address, limit: settings.failuresPerAddress, window: windowNanos, now: now)
        return [byName, byAddress].compactMap { $0 }.max()
    }

    mutating func recordFailure(name: String, address: String, now: UInt64) {
        failuresByName[name, default: []].append(now)
        failuresByAddress[address, default: []].append(now)
        if failuresByName.count + failuresByAddress.count > Self.sweepAbove { sweep(now: now) }
    }

    /// A correct password ends the name's run of failures (not the address's).
    mutating func recordSuccess(name: String) {
        failuresByName[name] = nil
    }

    /// Takes a registration from `address`'s bucket; the wait (ms) when it is empty.
    mutating func reserveRegistration(address: String, now: UInt64) -> Int? {
        let perNano = settings.registerPerMinute / 60e9
        var bucket = registrations[address] ?? (tokens: Double(settings.registerBurst), at: now)
        bucket.tokens = min(Double(settings.registerBurst), bucket.tokens + Double(now - bucket.at) * perNano)
        bucket.at = now
        guard bucket.tokens >= 1 else {
            registrations[address] = bucket
            return perNano > 0 ? Int(((1 - bucket.tokens) / perNano / 1e6).rounded(.up)) : Int.max
        }
        bucket.tokens -= 1
        registrations[address] = bucket
        if registrations.count > Self.sweepAbove { sweep(now: now) }
        return nil
    }

    /// Entries above which old ones are dropped, so the throttle's memory stays bounded.
    private static let sweepAbove = 10_000

    /// Failures older than the window and full buckets carry no information: drop them.
    private mutating func sweep(now: UInt64) {
        let window = windowNanos
        failuresByName = failuresByName.filter { $0.value.contains { now - $0 < window } }
        failuresByAddress = failuresByAddress.filter { $0.value.contains { now - $0 < window } }
        let perNano = settings.registerPerMinute / 60e9
        registrations = registrations.filter { $0.value.tokens + Double(now - $0.value.at) * perNano < Double(settings.registerBurst) }
    }

    /// Drops `key`'s failures older than the window; with `limit` or more left, the ms until enough have left it.
    private static func wait(_ failures: inout [String: [UInt64]], _ key: String, limit: Int, window: UInt64, now: UInt64) -> Int? {
        guard var times = failures[key] else { return nil }
        times.removeAll { now - $0 >= window }
        failures[key] = times.isEmpty ? nil : times
        guard times.count >= limit else { return nil }
        // Once this failure leaves the window, fewer than `limit` remain.
        let pivot = times[times.count - limit]
        return Int((pivot + window - now) / 1_000_000) + 1
    }
}
