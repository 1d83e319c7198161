import ActorChatClient
import ActorChatCore
import ActorChatProtocol

/// Password logins at a steady rate beside the load (`--login-storm N`): a few accounts registered
/// for the run, then N logins a second, each on a new connection and timed from connect to
/// `welcome`. Each login hashes a password on the server, so this shows whether that work stays
/// off the chat traffic's path.
package struct LoginStorm: Sendable {
    /// Accounts the logins rotate over (one address may register 5 at once by default).
    static let accounts = 5

    let host: String
    let port: Int
    let rate: Double
    private let names: [String]
    private let password = "load test password \(UInt32.random(in: 0...UInt32.max))"

    /// Registers the accounts.
    init(host: String, port: Int, rate: Double) async throws {
        self.host = host
        self.port = port
        self.rate = rate
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        names = (0..<Self.accounts).map { "storm\(run)-\($0)" }
        let client = try await ChatClient.connect(host: host, port: port)
        defer { client.close() }
        for name in names { try await client.request("register", ["name": .string(name), "password": .string(password)]) }
    }

    /// Logs in `rate` times a second for `seconds`; the logins' times and how many failed.
    func run(seconds: Double) async -> (LatencyHistogram, failures: Int) {
        let count = Int(seconds * rate)
        let start = ContinuousClock.now
        return await withTaskGroup(of: UInt64?.self) { group in
            for index in 0..<count {
                try? await Task.sleep(until: start + .seconds(Double(index) / rate))
                let name = names[index % names.count]
                group.addTask { await login(name) }
            }
            var histogram = LatencyHistogram()
            var failures = 0
            for await nanos in group {
                if let nanos { histogram.record(nanos: nanos) } else { failures += 1 }
            }
            return (histogram, failures)
        }
    }

    /// One login on a connection of its own: nanoseconds from connecting to `welcome`, nil on failure.
    private func login(_ name: String) async -> UInt64? {
        let started = ContinuousClock.now
        guard let client = try? await ChatClient.connect(host: host, port: port) else { return nil }
        defer { client.close() }
        guard (try? await client.login(name, password: password)) != nil else { return nil }
        return (ContinuousClock.now - started).nanoseconds
    }
}
