import ActorChatClient
import ActorChatCore
import ActorChatProtocol

/// An admin connection beside the load (`--token`): the store's commit figures around each step,
/// from `stats`, and with `--history-probe` how long a 50-message `history` takes while the step
/// runs. It reconnects when the server was restarted under it.
package actor ServerProbe {
    /// The store's counters at one moment (`stats.store`).
    struct StoreCounters: Sendable {
        var commits = 0
        var writes = 0
        var p99CommitMicros = 0
        var bytes = 0
    }

    /// What the probe saw over one step.
    package struct StepFigures: Sendable {
        var commits = 0
        var writes = 0
        /// The p99 of the store's newest (up to 4,096) commits at the end of the step.
        var p99CommitMicros = 0
        var bytes = 0
        var history: LatencyHistogram?
        var historyErrors = 0
        /// A `ping` sent right after each probing `history`: what any request waits at this load.
        var ping: LatencyHistogram?

        var meanBatch: Double { commits == 0 ? 0 : Double(writes) / Double(commits) }
    }

    /// Messages each probing `history` asks for, and the pause between two of them.
    static let historyLimit = 50
    static let historyInterval = Duration.milliseconds(10)

    private let host: String
    private let port: Int
    private let token: String
    private var client: ChatClient?

    init(host: String, port: Int, token: String) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// The store's counters now; nil when the server runs without a store or cannot be asked.
    func storeCounters() async -> StoreCounters? {
        guard let reply = try? await request("stats"), let store = reply["store"]?.object else { return nil }
        let commits = store["commits"]?.integer ?? 0
        let mean: Double = if case .number(let literal)? = store["mean_batch"] { Double(literal) ?? 0 } else { 0 }
        return StoreCounters(
            commits: commits, writes: Int((mean * Double(commits)).rounded()), p99CommitMicros: store["p99_commit_us"]?.integer ?? 0,
            bytes: store["bytes"]?.integer ?? 0)
    }

    /// The users logged in now (the probe among them), from `stats`; nil when it cannot be asked.
    func users() async -> Int? {
        try? await request("stats")["users"]?.integer
    }

    /// How long the probing requests took over a step.
    struct HistoryTimes: Sendable {
        var history = LatencyHistogram()
        var errors = 0
        var ping = LatencyHistogram()
    }

    /// Asks for the newest 50 messages of `room` every 10 ms for `seconds`, one request at a time,
    /// each followed by a `ping`, and returns how long the answers took. The ping is the yardstick:
    /// the part of a `history`'s time that any request spends waiting for the server's threads.
    func timeHistory(room: String, seconds: Double) async -> HistoryTimes {
        var times = HistoryTimes()
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            do {
                times.history.record(nanos: try await timed { try await request("history", ["room": .string(room), "limit": .number(String(Self.historyLimit))]) })
                times.ping.record(nanos: try await timed { try await request("ping") })
            } catch {
                times.errors += 1
            }
            try? await Task.sleep(for: Self.historyInterval)
        }
        return times
    }

    private func timed(_ body: () async throws -> ServerFrame) async throws -> UInt64 {
        let started = ContinuousClock.now
        _ = try await body()
        return (ContinuousClock.now - started).nanoseconds
    }

    func close() {
        client?.close()
        client = nil
    }

    /// One request as the admin, connecting first when there is no live connection.
    private func request(_ event: String, _ params: JSONObject = [:]) async throws -> ServerFrame {
        if let client {
            do {
                return try await client.request(event, params)
            } catch {
                // An error reply is an answer; anything else means the connection is gone.
                if case ClientError.server = error { throw error }
                self.client = nil
                client.close()
            }
        }
        let fresh = try await ChatClient.connect(host: host, port: port)
        do {
            try await fresh.login("bench-probe-\(UInt32.random(in: 0...UInt32.max))", token: token)
        } catch {
            fresh.close()
            throw error
        }
        client = fresh
        return try await fresh.request(event, params)
    }
}
