import ActorChatClient
import ActorChatCore
import ActorChatProtocol
import Foundation

/// Runs a scenario with worker processes against a running server and reports one table:
/// per step the offered rate, expected and achieved deliveries, latency percentiles, errors,
/// disconnects, the server's CPU and peak memory, and the generator's own CPU.
package struct LoadTest: Sendable {
    package struct Options: Sendable {
        package var scenario: BenchScenario
        package var host = "127.0.0.1"
        package var port = 7777
        package var serverPID: Int32?
        /// Offered messages per second for the whole scenario; nil: the scenario's default.
        package var rate: Double?
        package var seconds = 10.0
        package var sweep = false
        /// A sweep's rate multiplier from one step to the next: finer steps resolve a ratio of two
        /// capacities more closely (1.25 cannot tell 90% from 80%).
        package var stepFactor = 1.25
        /// Judge the delivery promise: no loss, duplicate or reorder, every delivery made, nobody cut.
        package var soak = false
        /// Halfway through the step, kill the server with SIGKILL and start it again (the soak's crash).
        package var restartServer = false
        package var workers = 1
        package var messageBytes = 100
        /// Messages each sender puts in one write (1: one per write, as a person types).
        package var pipeline = 1
        package var jsonPath: String?
        /// The admin token: with it, a probe reports the store's commits per step.
        package var adminToken: String?
        /// Time a 50-message `history` every 10 ms during each step (needs `adminToken`).
        package var historyProbe = false
        /// Clients connect one at a time and each joins on its own `welcome`.
        package var trickle = false
        package var webSocket = false
        /// Password logins per second during each step, each on a new connection (nil: none).
        package var loginStorm: Double?
        /// Where to draw the steps as an SVG chart, and the chart's caption (the command, the
        /// machine, the date).
        package var svgPath: String?
        package var caption: String?

        package init(scenario: BenchScenario) {
            self.scenario = scenario
        }
    }

    /// One row of the table.
    package struct Step: Sendable {
        package var offered: Double
        package var figures: BenchStepFigures
        package var deliveriesPerMessage: Int
        package var serverCPUSeconds: Double
        package var serverPeakRSS: Int
        /// What the admin probe saw (nil without `--token`).
        package var probe: ServerProbe.StepFigures?
        /// The login storm's times and failures (nil without `--login-storm`).
        package var logins: (histogram: LatencyHistogram, failures: Int)?

        package var expectedPerSecond: Double { Double(figures.sent * deliveriesPerMessage) / figures.seconds }
        package var achievedPerSecond: Double { Double(figures.received) / figures.seconds }
        package var ratio: Double { figures.sent == 0 ? 1 : Double(figures.received) / Double(figures.sent * deliveriesPerMessage) }
        package var passes: Bool { shortfall(disconnectsExpected: false) == nil }

        /// Why the step does not count as sustained (nil: it does): under 99% delivered, a p99
        /// over 200 ms, or a connection lost (unless the run cuts them on purpose).
        package func shortfall(disconnectsExpected: Bool) -> String? {
            let p99 = figures.histogram.percentile(0.99)
            if ratio < 0.99 { return String(format: "%.1f%% delivered < 99%%", ratio * 100) }
            if p99 > 200 { return "p99 \(LoadTable.milliseconds(p99)) ms > 200 ms" }
            if figures.disconnects > 0, !disconnectsExpected { return "\(figures.disconnects) connection(s) lost" }
            return nil
        }
    }

    package let options: Options
    private let say: @Sendable (String) -> Void
    /// Where progress lines go while a step runs (stderr in the tool, so the table stays clean).
    private let progress: @Sendable (String) -> Void

    package init(options: Options, say: @escaping @Sendable (String) -> Void, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options
        self.say = say
        self.progress = progress
    }

    package func run(executable: URL) async throws -> JSONObject {
        let scenario = options.scenario
        var sampler = options.serverPID.map(ServerSampler.init(pid:))
        let restarter = ServerRestarter()
        defer { restarter.stop() }
        let memoryBefore = sampler?.memory().resident ?? 0
        try await createRooms()
        say("scenario \(scenario.name): \(scenario.clients) clients in \(scenario.rooms) room(s) of \(scenario.roomSize), \(options.workers) worker process(es)"
            + (options.pipeline > 1 ? ", \(options.pipeline) messages per write" : ""))
        let started = ContinuousClock.now
        let connectCPUBefore = sampler?.cpuSeconds() ?? 0
        var workers: [WorkerProcess] = []
        defer { workers.forEach { $0.finish() } }
        let share = (scenario.clients + options.workers - 1) / options.workers
        for worker in 0..<options.workers {
            let first = worker * share
            let count = max(0, min(share, scenario.clients - first))
            workers.append(try WorkerProcess(executable: executable, arguments: [
                "bench", "--scenario", scenario.name, "--clients", String(scenario.clients), "--first", String(first), "--count", String(count),
                "--host", options.host, "--port", String(options.port), "--message-bytes", String(options.messageBytes),
                "--pipeline", String(options.pipeline), "--run-id", scenario.runID,
            ] + (options.restartServer ? ["--reconnect"] : []) + (options.trickle ? ["--trickle"] : []) + (options.webSocket ? ["--websocket"] : [])))
        }
        for worker in workers { _ = try await worker.nextObject() }
        let connectSeconds = (ContinuousClock.now - started).seconds
        let memoryAfter = sampler?.memory().resident ?? 0
        let connectCPU = (sampler?.cpuSeconds() ?? 0) - connectCPUBefore
        say(String(format: "connected, logged in and joined %d clients in %.2f s (%.0f per second); server CPU %.2f s",
                   scenario.clients, connectSeconds, Double(scenario.clients) / connectSeconds, connectCPU))
        var result: JSONObject = [
            "scenario": .string(scenario.name), "clients": .number(String(scenario.clients)),
            "connect_seconds": .number(String(connectSeconds)), "workers": .number(String(options.workers)),
            "pipeline": .number(String(options.pipeline)),
        ]
        switch scenario.name {
        case "connections":
            let clients = max(1, scenario.clients)
            // Joining leaves output buffers behind (and notices still being written when the last
            // `joined` arrives); the server frees buffers idle for two sweeps (0.5 s) and returns
            // freed memory to the system at most once a second. Idle means after that: sample four
            // times a second until RSS has not fallen for two seconds (at most 6 s).
            var settled = memoryAfter
            var quiet = 0
            for _ in 0..<24 where quiet < 8 {
                try await Task.sleep(for: .milliseconds(250))
                let now = sampler?.memory().resident ?? 0
                if now < settled {
                    settled = now
                    quiet = 0
                } else {
                    quiet += 1
                }
            }
            say("server RSS: \(memoryBefore / 1024) KiB before, \(memoryAfter / 1024) KiB just after the joins (\((memoryAfter - memoryBefore) / clients) bytes per client), \(settled / 1024) KiB idle: \((settled - memoryBefore) / clients) bytes per idle client")
            result["server_rss_before"] = .number(String(memoryBefore))
            result["server_rss_after"] = .number(String(memoryAfter))
            result["server_rss_idle"] = .number(String(settled))
            result["server_rss_per_client"] = .number(String((settled - memoryBefore) / clients))
            // Then every client leaves at once (every worker is told to quit before any is waited
            // for), as after a network blip: how long until the server has let go of all of them,
            // its `stats` counting only the probe.
            if let token = options.adminToken {
                let probe = ServerProbe(host: options.host, port: options.port, token: token)
                _ = await probe.users()
                let cpuBefore = sampler?.cpuSeconds() ?? 0
                let leaving = ContinuousClock.now
                workers.forEach { $0.quit() }
                let deadline = leaving + .seconds(30)
                var users = await probe.users()
                while let left = users, left > 1, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                    users = await probe.users()
                }
                let seconds = (ContinuousClock.now - leaving).seconds
                let cpu = (sampler?.cpuSeconds() ?? 0) - cpuBefore
                await probe.close()
                workers.forEach { $0.finish() }
                workers = []
                if users == 1 {
                    say(String(format: "all %d clients left at once: the server let go of them in %.2f s; server CPU %.2f s", clients, seconds, cpu))
                    result["leave_seconds"] = .number(String(seconds))
                } else {
                    say("all \(clients) clients left at once: " + (users.map { "\($0 - 1) still logged in after 30 s" } ?? "the server could not be asked (stats)"))
                }
            }
        case "churn":
            let cpuBefore = sampler?.cpuSeconds() ?? 0
            for worker in workers { worker.send("churn \(options.seconds)") }
            var logins = 0, errors = 0
            for worker in workers {
                let answer = try await worker.nextObject()
                logins += answer["logins"]?.integer ?? 0
                errors += answer["errors"]?.integer ?? 0
            }
            let cpu = (sampler?.cpuSeconds() ?? 0) - cpuBefore
            say(String(format: "churn: %d logins in %.1f s: %.0f logins per second, %d errors, server CPU %.2f s", logins, options.seconds, Double(logins) / options.seconds, errors, cpu))
            result["logins_per_second"] = .number(String(Double(logins) / options.seconds))
            result["errors"] = .number(String(errors))
        default:
            var restartSummary: String?
            let steps = try await runSteps(workers: workers, sampler: &sampler, restarter: restarter, restartSummary: &restartSummary)
            result["steps"] = .array(steps.map(Self.json))
            if let path = options.svgPath { try chart(steps).svg().write(toFile: path, atomically: true, encoding: .utf8) }
            say(verdict(steps))
            restartSummary.map(say)
            let sustained = steps.last { $0.shortfall(disconnectsExpected: options.restartServer) == nil }
            result["sustained_deliveries_per_second"] = .number(String(sustained?.achievedPerSecond ?? 0))
            if options.soak, let step = steps.last {
                let memoryEnd = sampler?.memory().resident ?? 0
                try await judgeSoak(step, workers: workers, memory: (memoryAfter, memoryEnd), into: &result)
            }
        }
        if let path = options.jsonPath {
            var writer = JSONWriter()
            writer.write(.object(result))
            writer.endLine()
            try Data(writer.bytes).write(to: URL(fileURLWithPath: path))
        }
        return result
    }

    /// The delivery promise, judged by seq: no receiver missed, doubled or reordered a message of
    /// its room, none was told of a gap, and at the end each has seen its room's newest stored
    /// message. Without a restart every send must also have been delivered and nobody cut off;
    /// with one, every client must have come back (sends lost in the kill were never accepted, so
    /// the delivery ratio is reported, not judged). A client may be cut twice: one that reconnects
    /// while the killed server's listener is still being torn down is accepted into its backlog,
    /// then reset.
    private func judgeSoak(_ step: Step, workers: [WorkerProcess], memory: (start: Int, end: Int), into result: inout JSONObject) async throws {
        var verified = 0, tailLosses = 0, gaps = 0, reconnects = 0
        var errorCodes: [String: Int] = [:]
        for worker in workers { worker.send("verify") }
        for worker in workers {
            let answer = try await worker.nextObject()
            for (code, count) in answer["error_codes"]?.object?.members ?? [] { errorCodes[code, default: 0] += count.integer ?? 0 }
            verified += answer["verified"]?.integer ?? 0
            tailLosses += answer["tail_losses"]?.integer ?? 0
            gaps += answer["gaps"]?.integer ?? 0
            reconnects += answer["reconnects"]?.integer ?? 0
        }
        let figures = step.figures
        let clients = options.scenario.clients
        say("soak: \(figures.losses + tailLosses) lost (\(tailLosses) at the tail), \(figures.duplicates) duplicated, \(figures.reorders) reordered, \(gaps) gaps; delivery ratio \(String(format: "%.4f", step.ratio)), \(figures.disconnects) disconnected, \(reconnects) reconnected, \(figures.errors) errors"
            + (errorCodes.isEmpty ? "" : " (over the run: " + errorCodes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + ")"))
        say("soak: server RSS \(memory.start / 1024) KiB at the start, \(memory.end / 1024) KiB at the end" + (options.restartServer ? " (after the restart)" : ""))
        result["server_rss_start"] = .number(String(memory.start))
        result["server_rss_end"] = .number(String(memory.end))
        let byServer = figures.losses == 0 && tailLosses == 0 && figures.duplicates == 0 && figures.reorders == 0 && gaps == 0
            && figures.errors == 0 && verified == clients
        let connections = options.restartServer
            ? figures.disconnects >= clients && reconnects == figures.disconnects
            : step.ratio == 1 && figures.disconnects == 0
        guard byServer, connections else { throw LoadTestError.promiseBroken }
        say("soak: passed")
    }

    /// Runs the steps and prints the table; `restartSummary` says how the restart went, if there was one.
    private func runSteps(
        workers: [WorkerProcess], sampler: inout ServerSampler?, restarter: ServerRestarter, restartSummary: inout String?
    ) async throws -> [Step] {
        let scenario = options.scenario
        var rate = options.rate ?? scenario.defaultRate
        var steps: [Step] = []
        let probe = options.adminToken.map { ServerProbe(host: options.host, port: options.port, token: $0) }
        var storm: LoginStorm?
        if let rate = options.loginStorm { storm = try await LoginStorm(host: options.host, port: options.port, rate: rate) }
        defer { if let probe { Task { await probe.close() } } }
        LoadTable.header().forEach(say)
        for index in 1... {
            let countersBefore = await probe?.storeCounters()
            progress("step \(index): offering \(LoadTable.count(rate)) messages/s for \(options.seconds) s…")
            var cpuBefore = sampler?.cpuSeconds() ?? 0
            var carriedCPU = 0.0
            for worker in workers { worker.send("run \(rate / Double(workers.count)) \(options.seconds)") }
            var ticker = progressTicker(step: index, sampler: sampler, cpuBefore: cpuBefore)
            defer { ticker.cancel() }
            let (room, seconds) = (scenario.room(of: 0), options.seconds)
            let historyTimes = options.historyProbe ? probe.map { probe in Task { await probe.timeHistory(room: room, seconds: seconds) } } : nil
            let loginTimes = storm.map { storm in Task { await storm.run(seconds: seconds) } }
            if options.restartServer, let old = sampler {
                try await Task.sleep(for: .seconds(options.seconds / 2))
                let used = old.cpuSeconds() - cpuBefore
                let restarted = try await restarter.restart(pid: old.pid, port: options.port)
                restartSummary = String(format: "restart: killed server pid %d with SIGKILL at %.1f s; pid %d listening %.2f s later", old.pid, options.seconds / 2, restarted.pid, restarted.downSeconds)
                progress(restartSummary ?? "")
                sampler = ServerSampler(pid: restarted.pid)
                // The step's server CPU is the old process's share plus all of the new one's.
                (carriedCPU, cpuBefore) = (used, 0)
                ticker.cancel()
                ticker = progressTicker(step: index, sampler: sampler, cpuBefore: 0, from: options.seconds / 2)
            }
            var figures: BenchStepFigures?
            for worker in workers {
                let answer = try await worker.nextObject()
                guard let step = answer["step"].flatMap(BenchStepFigures.init(json:)) else { throw LoadTestError.workerExited }
                if figures == nil { figures = step } else { figures?.merge(step) }
            }
            guard let figures else { break }
            var probed: ServerProbe.StepFigures?
            if let countersAfter = await probe?.storeCounters() {
                // After a restart the counters start again from zero.
                let base = countersBefore.flatMap { $0.commits <= countersAfter.commits ? $0 : nil } ?? ServerProbe.StoreCounters()
                probed = ServerProbe.StepFigures(
                    commits: countersAfter.commits - base.commits, writes: countersAfter.writes - base.writes,
                    p99CommitMicros: countersAfter.p99CommitMicros, bytes: countersAfter.bytes)
            }
            if let times = await historyTimes?.value {
                probed = probed ?? ServerProbe.StepFigures()
                probed?.history = times.history
                probed?.historyErrors = times.errors
                probed?.ping = times.ping
            }
            let step = Step(
                offered: rate, figures: figures, deliveriesPerMessage: scenario.deliveriesPerMessage,
                serverCPUSeconds: carriedCPU + (sampler?.cpuSeconds() ?? 0) - cpuBefore, serverPeakRSS: sampler?.memory().peak ?? 0,
                probe: probed, logins: await loginTimes?.value)
            steps.append(step)
            say(LoadTable.row(index, step))
            guard options.sweep, step.passes, index < Self.maximumSteps else { break }
            rate *= options.stepFactor
        }
        LoadTable.legend.forEach(say)
        if steps.contains(where: { $0.probe != nil }) {
            say("")
            LoadTable.header(LoadTable.storeColumns).forEach(say)
            for (index, step) in steps.enumerated() { say(LoadTable.row(index + 1, step, LoadTable.storeColumns)) }
            LoadTable.storeLegend.forEach(say)
        }
        for (index, step) in steps.enumerated() {
            guard let (histogram, failures) = step.logins else { continue }
            say("logins (step \(index + 1)): \(histogram.total) password logins at \(LoadTable.count(options.loginStorm ?? 0))/s, each on a new connection: "
                + "p50 \(LoadTable.milliseconds(histogram.percentile(0.5))) ms, p99 \(LoadTable.milliseconds(histogram.percentile(0.99))) ms, \(failures) failed")
        }
        return steps
    }

    /// Once a second while a step runs: how far along it is (counting from `offset` seconds into the
    /// step) and how busy the server is.
    private func progressTicker(step: Int, sampler: ServerSampler?, cpuBefore: Double, from offset: Double = 0) -> Task<Void, Never> {
        let (seconds, progress) = (options.seconds, progress)
        return Task {
            let start = ContinuousClock.now
            while (try? await Task.sleep(for: .seconds(1))) != nil {
                let elapsed = (ContinuousClock.now - start).seconds
                let phase = offset + elapsed < seconds ? String(format: "%.0f/%.0f s", offset + elapsed, seconds) : "draining"
                let cpu = sampler.map { String(format: ", server at %.0f%% CPU", ($0.cpuSeconds() - cpuBefore) / elapsed * 100) } ?? ""
                progress("step \(step): \(phase)\(cpu)")
            }
        }
    }

    /// The steps as a chart of one line.
    func chart(_ steps: [Step]) -> SweepChart {
        let scenario = options.scenario
        let points = steps.map { step in
            SweepChart.Point(
                offered: step.offered * Double(step.deliveriesPerMessage), achieved: step.achievedPerSecond, p50: step.figures.histogram.percentile(0.5),
                p99: step.figures.histogram.percentile(0.99))
        }
        return SweepChart(
            title: "\(scenario.name): \(scenario.clients) clients in \(scenario.rooms) room(s) of \(scenario.roomSize)",
            caption: options.caption ?? "actor-chat-cli loadtest --scenario \(scenario.name)",
            series: [SweepChart.Series(name: "ActorChat", points: points, capacity: steps.lastIndex { $0.shortfall(disconnectsExpected: options.restartServer) == nil })])
    }

    /// A sweep stops after this many steps even if every one passed.
    static let maximumSteps = 40

    /// The table's last line: the rate sustained, and for a sweep, why it stopped.
    func verdict(_ steps: [Step]) -> String {
        let restart = options.restartServer
        let sustained = steps.lastIndex { $0.shortfall(disconnectsExpected: restart) == nil }
        let held = sustained.map { "sustained \(LoadTable.count(steps[$0].achievedPerSecond)) deliveries/s (step \($0 + 1))" } ?? "sustained: none"
        guard let last = steps.last else { return held }
        if let reason = last.shortfall(disconnectsExpected: restart) {
            let what = options.sweep ? "stopped" : "not sustained"
            return "\(held); \(what): \(reason) at \(LoadTable.count(last.achievedPerSecond)) deliveries/s (step \(steps.count))"
        }
        if options.sweep, steps.count >= Self.maximumSteps { return "\(held); stopped: the sweep's limit of \(Self.maximumSteps) steps" }
        return held + " (at least 99% delivered, p99 ≤ 200 ms" + (restart ? ")" : ", no connection lost)")
    }

    private static func json(_ step: Step) -> JSONValue {
        let h = step.figures.histogram
        func number(_ value: Double) -> JSONValue { .number(String(format: "%.3f", value)) }
        var object: JSONObject = [
            "offered_msgs_per_s": number(step.offered), "expected_deliveries_per_s": number(step.expectedPerSecond),
            "achieved_deliveries_per_s": number(step.achievedPerSecond), "delivery_ratio": number(step.ratio),
            "p50_ms": number(h.percentile(0.5)), "p90_ms": number(h.percentile(0.9)), "p99_ms": number(h.percentile(0.99)),
            "p999_ms": number(h.percentile(0.999)), "max_ms": number(Double(h.maxNanos) / 1e6),
            "errors": .number(String(step.figures.errors)), "disconnects": .number(String(step.figures.disconnects)),
            "server_cpu_s": number(step.serverCPUSeconds), "server_peak_rss_bytes": .number(String(step.serverPeakRSS)),
            "generator_cpu_s": number(step.figures.generatorCPUSeconds), "sent": .number(String(step.figures.sent)),
            "losses": .number(String(step.figures.losses)), "duplicates": .number(String(step.figures.duplicates)),
            "reorders": .number(String(step.figures.reorders)),
            "received": .number(String(step.figures.received)),
        ]
        if let probe = step.probe {
            object["store_commits"] = .number(String(probe.commits))
            object["store_mean_batch"] = number(probe.meanBatch)
            object["store_p99_commit_us"] = .number(String(probe.p99CommitMicros))
            object["store_bytes"] = .number(String(probe.bytes))
            if let history = probe.history {
                object["history_p50_ms"] = number(history.percentile(0.5))
                object["history_p99_ms"] = number(history.percentile(0.99))
                object["history_errors"] = .number(String(probe.historyErrors))
            }
            if let ping = probe.ping {
                object["ping_p50_ms"] = number(ping.percentile(0.5))
                object["ping_p99_ms"] = number(ping.percentile(0.99))
            }
        }
        if let (histogram, failures) = step.logins {
            object["logins"] = .number(String(histogram.total))
            object["login_p50_ms"] = number(histogram.percentile(0.5))
            object["login_p99_ms"] = number(histogram.percentile(0.99))
            object["login_failures"] = .number(String(failures))
        }
        return .object(object)
    }

    /// The scenario's rooms, made by a setup client (an existing room is fine).
    private func createRooms() async throws {
        let scenario = options.scenario
        let setup: ChatClient
        do {
            setup = try await ChatClient.connect(host: options.host, port: options.port)
        } catch {
            throw LoadTestError.noServer("no server at \(options.host):\(options.port): \(error)")
        }
        defer { setup.close() }
        try await setup.login("bench-setup-\(UInt32.random(in: 0...UInt32.max))")
        for room in 0..<scenario.rooms {
            do {
                try await setup.request("create_room", ["room": .string(scenario.room(of: room * scenario.roomSize)), "limit": .number(String(scenario.roomSize))])
            } catch ClientError.server(code: "room_exists", _) {}
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var nanoseconds: UInt64 { UInt64(components.seconds) * 1_000_000_000 + UInt64(components.attoseconds / 1_000_000_000) }
}
