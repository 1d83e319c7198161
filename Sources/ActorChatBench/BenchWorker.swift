import ActorChatClient
import ActorChatCore
import ActorChatProtocol
import Glibc
import Foundation
import Synchronization

/// Many simulated clients in one process, all on one event loop. Senders send on a fixed schedule,
/// not when replies come, and stamp each message with its intended send time, so a slow server
/// shows as latency instead of as a politely lowered rate (no coordinated omission).
package final class BenchWorker: Sendable {
    package let scenario: BenchScenario
    /// The clients this worker simulates, by scenario-wide index.
    package let indices: Range<Int>
    private let address: SocketAddress
    /// Source addresses clients spread over (empty: the kernel's choice), see `sourceAddresses(for:)`.
    private let sources: [SocketAddress]
    private let loop: EventLoop
    private let tally = BenchTally()
    private let clients = Mutex<[BenchClient]>([])
    private let textPadding: String
    /// Messages a sender puts in one write: 1 is a client typing; more is a client pipelining.
    private let pipeline: Int
    /// Whether a client whose connection is lost connects again and resumes its room with `since`
    /// (until the worker stops, which ends every connection).
    private let reconnects: Bool
    /// Clients arrive as real ones do: one connect at a time, each joining when its own `welcome`
    /// comes back, instead of every login first and every join in one burst.
    private let trickle: Bool
    /// Clients speak WebSocket (`GET /ws`) instead of JSON lines.
    private let webSocket: Bool
    private let stopping = Atomic(false)
    private let limits: ConnectionLimits = {
        var limits = ConnectionLimits()
        limits.outboundBytes = 64 << 20
        return limits
    }()

    package init(
        scenario: BenchScenario, indices: Range<Int>, host: String, port: Int, messageBytes: Int = 100, pipeline: Int = 1,
        reconnects: Bool = false, trickle: Bool = false, webSocket: Bool = false
    ) throws {
        self.webSocket = webSocket
        self.scenario = scenario
        self.indices = indices
        self.pipeline = max(1, pipeline)
        self.reconnects = reconnects
        self.trickle = trickle
        address = try SocketAddress.resolve(host: host, port: port)[0]
        sources = try Self.sourceAddresses(for: address)
        loop = try EventLoop(name: "bench-io")
        textPadding = String(repeating: "x", count: max(0, messageBytes - 24))
    }

    /// Connects every client, logs it in and joins its room; returns once the server confirmed all joins.
    /// Joins go out only once every client is logged in, all at once: the server then batches each
    /// room's `user_joined` notices into few writes per member instead of one write per join.
    /// With `trickle`, one client connects at a time and each joins on its own `welcome`.
    package func connectAll(concurrency: Int = 256) async throws {
        let lost: (@Sendable (BenchClient) -> Void)? = reconnects ? { @Sendable [weak self] client in self?.reconnect(client) } : nil
        let created = indices.map {
            BenchClient(index: $0, room: scenario.room(of: $0), tally: tally, lost: lost, joinOnWelcome: trickle, webSocket: webSocket)
        }
        let concurrency = trickle ? 1 : concurrency
        clients.withLock { $0 = created }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = created.makeIterator()
            func start(_ client: BenchClient) {
                group.addTask { [address, sources, loop, limits, webSocket] in
                    let source = sources.isEmpty ? nil : sources[client.index % sources.count]
                    let connection = try await loop.connect(to: address, from: source, limits: limits) { client.read($0) }
                    if webSocket { client.upgrade(connection) }
                    client.attach(connection)
                    connection.send(ClientRequest(event: "login", params: ["name": .string("bench\(client.index)")]).encoded())
                }
            }
            for _ in 0..<concurrency { if let client = next.next() { start(client) } }
            while try await group.next() != nil {
                if let client = next.next() { start(client) }
            }
        }
        await tally.wait(for: .welcomed, count: created.count)
        let welcomed = tally.totals.withLock { $0.counts.welcomed }
        guard welcomed == created.count else { throw BenchError.loginsRefused(welcomed: welcomed, of: created.count, errors: errorCodes) }
        if !trickle {
            for client in created {
                client.attached?.send(ClientRequest(event: "join", params: ["room": .string(client.room)]).encoded())
            }
        }
        await tally.wait(for: .joined, count: created.count)
        let joined = tally.totals.withLock { $0.counts.joined }
        guard joined == created.count else { throw BenchError.joinsRefused(joined: joined, of: created.count, errors: errorCodes) }
    }

    /// Offers `rate` messages per second from this worker's senders for `seconds`, then waits for
    /// deliveries to stop arriving (at most `drainSeconds`) and reports.
    package func run(rate: Double, seconds: Double, drainSeconds: Double = 5) async -> BenchStepFigures {
        let senders = clients.withLock { $0.filter { scenario.sends($0.index) } }
        let before = tally.totals.withLock { totals -> BenchTally.Totals in
            defer { totals.histogram = LatencyHistogram() }
            return totals
        }
        let errorsBefore = before.errors.values.reduce(0, +)
        let usageBefore = Self.cpuSeconds()
        let sent = senders.isEmpty || rate <= 0 ? 0 : await send(from: senders, rate: rate, seconds: seconds)
        // Drain: until nothing new arrives for half a second, or the drain time is up.
        var last = tally.totals.withLock { $0.counts.received }
        let drainEnd = ContinuousClock.now + .seconds(drainSeconds)
        while ContinuousClock.now < drainEnd {
            try? await Task.sleep(for: .milliseconds(500))
            let now = tally.totals.withLock { $0.counts.received }
            if now == last { break }
            last = now
        }
        return tally.totals.withLock { totals in
            BenchStepFigures(
                sent: sent, received: totals.counts.received - before.counts.received, histogram: totals.histogram,
                errors: totals.errors.values.reduce(0, +) - errorsBefore, disconnects: totals.disconnects - before.disconnects,
                losses: totals.counts.losses - before.counts.losses, duplicates: totals.counts.duplicates - before.counts.duplicates,
                reorders: totals.counts.reorders - before.counts.reorders, generatorCPUSeconds: Self.cpuSeconds() - usageBefore, seconds: seconds)
        }
    }

    /// Clients connecting, logging in, joining, sending, leaving and disconnecting, `concurrency`
    /// at a time, for `seconds`. Each pipelines its four requests in one write and waits for `left`,
    /// scanning bytes as the fanout clients do, so the generator stays cheaper than the server.
    /// Returns the logins completed and the failures.
    package func churn(seconds: Double, concurrency: Int) async -> (logins: Int, errors: Int) {
        let end = ContinuousClock.now + .seconds(seconds)
        let room = scenario.room(of: indices.lowerBound)
        return await withTaskGroup(of: (Int, Int).self) { group in
            for lane in 0..<concurrency {
                group.addTask { [address, loop, indices] in
                    var logins = 0, errors = 0, round = 0
                    while ContinuousClock.now < end {
                        round += 1
                        let name = "churn\(indices.lowerBound)-\(lane)-\(round)"
                        let requests = [
                            ClientRequest(event: "login", params: ["name": .string(name)]),
                            ClientRequest(event: "join", params: ["room": .string(room)]),
                            ClientRequest(event: "send", params: ["room": .string(room), "text": "churning"]),
                            ClientRequest(event: "leave", params: ["room": .string(room)]),
                        ].flatMap { $0.encoded() }
                        if await ChurnRound.run(requests, address: address, loop: loop) { logins += 1 } else { errors += 1 }
                    }
                    return (logins, errors)
                }
            }
            return await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
    }

    /// Connects `client` again (every 50 to 100 ms, for at most 30 s), logs it in and rejoins its
    /// room with `since` its last seq; it sends again once the server confirms the join.
    private func reconnect(_ client: BenchClient) {
        guard !stopping.load(ordering: .relaxed) else { return }
        Task { [address, sources, loop, limits, tally, webSocket] in
            let source = sources.isEmpty ? nil : sources[client.index % sources.count]
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let connection = try? await loop.connect(to: address, from: source, limits: limits, onRead: { client.read($0) }) {
                    if webSocket { client.upgrade(connection) }
                    client.attach(connection)
                    connection.send(
                        ClientRequest(event: "login", params: ["name": .string("bench\(client.index)")]).encoded()
                            + ClientRequest(event: "join", params: ["room": .string(client.room), "since": .number(String(client.lastSeq))]).encoded())
                    tally.reconnected()
                    return
                }
                try? await Task.sleep(for: .milliseconds(Int.random(in: 50...100)))
            }
        }
    }

    /// The soak's closing check: every client asks for its room's newest stored message and
    /// compares it with the last it saw. Returns the checks answered, the messages found missing
    /// at the tail, the `history_gap` notices and the reconnects, all over the whole run.
    package func verify() async -> (verified: Int, tailLosses: Int, gaps: Int, reconnects: Int) {
        let all = clients.withLock { $0 }
        for client in all {
            client.attached?.send(ClientRequest(event: "history", params: ["room": .string(client.room), "limit": .number("1")]).encoded())
        }
        await tally.wait(for: .verified, count: all.count)
        return tally.totals.withLock { ($0.counts.verified, $0.counts.tailLosses, $0.counts.gaps, $0.counts.reconnects) }
    }

    /// Error codes seen so far, with counts (for diagnosing a failed run).
    package var errorCodes: [String: Int] { tally.totals.withLock { $0.errors } }

    package func stop() async {
        stopping.store(true, ordering: .relaxed)
        await loop.stop()
    }

    /// The sending schedule runs on a thread of its own: message i is due at start + i/rate,
    /// and one that is late is still sent (late), carrying the time it was due. With a pipeline of
    /// n, a sender's n messages go in one write once the last is due, each stamped with the first's
    /// due time, so the wait to fill the write counts as latency.
    private func send(from senders: [BenchClient], rate: Double, seconds: Double) async -> Int {
        // Each sender's request is encoded once, around the due time that changes per message, so
        // the schedule thread spends its time sending rather than building JSON.
        let templates = senders.map { sender in
            SendTemplate(client: sender, room: sender.room, text: "|\(sender.index)|\(textPadding)")
        }
        return await withCheckedContinuation { [pipeline] continuation in
            Thread {
                let interval = 1e9 / rate
                let start = monotonicNanos()
                let end = start + UInt64(seconds * 1e9)
                // Scheduled counts the schedule's messages; sent, those a joined client could send
                // (a client away for a reconnect skips its turns).
                var scheduled = 0
                var sent = 0
                var request: [UInt8] = []
                while true {
                    let first = start + UInt64(Double(scheduled) * interval)
                    let last = start + UInt64(Double(scheduled + pipeline - 1) * interval)
                    if last >= end { break }
                    let now = monotonicNanos()
                    if last > now {
                        var pause = timespec(tv_sec: Int((last - now) / 1_000_000_000), tv_nsec: Int((last - now) % 1_000_000_000))
                        nanosleep(&pause, nil)
                        continue
                    }
                    let template = templates[(scheduled / pipeline) % templates.count]
                    request.removeAll(keepingCapacity: true)
                    for _ in 0..<pipeline { template.append(to: &request, due: first) }
                    if template.client.sendIfJoined(request) { sent += pipeline }
                    scheduled += pipeline
                }
                continuation.resume(returning: sent)
            }.start()
        }
    }

    /// To an IPv4 loopback server, clients leave from 127.0.0.1 to 127.0.0.8: each source address
    /// has its own ephemeral port range, and with tens of thousands of connections from one address
    /// the kernel's search for a free port (`__inet_hash_connect`) dominated the generator's CPU.
    static func sourceAddresses(for server: SocketAddress) throws -> [SocketAddress] {
        guard server.family == AF_INET, server.host.hasPrefix("127.") else { return [] }
        return try (1...8).map { try SocketAddress.resolve(host: "127.0.0.\($0)", port: 0)[0] }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// A sender's `send` request split around its text's first field, the due time in nanoseconds.
private struct SendTemplate: Sendable {
    let client: BenchClient
    let head: [UInt8]
    let tail: [UInt8]

    init(client: BenchClient, room: String, text suffix: String) {
        self.client = client
        // Room names and the suffix (digits, '|' and padding) need no JSON escaping.
        head = Array(#"{"event":"send","params":{"room":"\#(room)","text":""#.utf8)
        tail = Array("\(suffix)\"}}\n".utf8)
    }

    func append(to request: inout [UInt8], due: UInt64) {
        request.append(contentsOf: head)
        request.append(contentsOf: String(due).utf8)
        request.append(contentsOf: tail)
    }
}
