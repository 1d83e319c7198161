import ActorChatClient
import ActorChatCore
import ActorChatProtocol
import Foundation

/// `actor-chat-cli loadtest` and the `bench` workers it starts.
package enum BenchCommandLine {
    package typealias Subcommand = ChatCommandLine.Subcommand
    package typealias Context = ChatCommandLine.Context

    package static let subcommands: [Subcommand] = [
        Subcommand(name: "loadtest", synopsis: "loadtest", summary: "Run a load-test scenario (see scripts/loadtest.sh)", arguments: CommandLineArguments(
            command: "actor-chat-cli loadtest", abstract: "Run a load-test scenario against a running server and print the figures.",
            options: [
                .init("scenario", value: "name", help: "One of \(BenchScenario.names.joined(separator: ", ")) (default fanout-100)."),
                .init("rate", value: "msgs/s", help: "Offered messages per second (default: the scenario's)."),
                .init("seconds", value: "s", help: "Seconds per step (default 10)."),
                .init("sweep", help: "Raise the rate ×1.25 per step until delivery < 99% or p99 > 200 ms."),
                .init("step-factor", value: "x", help: "With --sweep, the rate's multiplier per step (default 1.25; 1.01 to 4)."),
                .init("soak", help: "Check the delivery promise (no loss, duplicate or reorder); exit 1 if broken."),
                .init("restart", help: "Halfway through, kill -9 the server (--server-pid) and start it again; clients resume with since."),
                .init("workers", value: "n", help: "Worker processes (default 1; more for over 19,000 clients)."),
                .init("clients", value: "n", help: "Clients, for connections and churn (default 19000 and 200)."),
                .init("server-pid", value: "pid", help: "The server's pid, to report its CPU and memory."),
                .init("json", value: "file", help: "Also write the figures to this file as JSON."),
                .init("token", value: "token", help: "The server's admin token: also report the store's commits per step (from stats)."),
                .init("history-probe", help: "With --token, time a 50-message history every 10 ms during each step, each followed by a ping."),
                .init("trickle", help: "Clients arrive one at a time, each joining when its welcome comes back (default: all log in, then all join at once)."),
                .init("websocket", help: "Clients speak WebSocket (GET /ws, one text frame per request) instead of JSON lines."),
                .init("login-storm", value: "per-second", help: "Also make this many password logins a second during each step, each on a new connection."),
                .init("svg", value: "file", help: "Also draw the steps as an SVG chart (throughput and latency against the offered load)."),
                .init("caption", value: "text", help: "The chart's caption (scripts/loadtest.sh gives the command, the machine and the date)."),
            ] + generatorOptions), run: loadTest),
        Subcommand(name: "task-floor", synopsis: "task-floor", summary: "Measure what an idle per-socket task costs with nothing else", arguments: CommandLineArguments(
            command: "actor-chat-cli task-floor",
            abstract: "Suspend N tasks, each on its own AsyncStream with the sessions' executor preference, and print the resident bytes per task.",
            options: [
                .init("tasks", value: "n", help: "Tasks to suspend (default 19000)."),
                .init("no-preference", help: "Without the task executor preference, to show what it costs."),
            ]), run: taskFloor),
        Subcommand(name: "chart", synopsis: "chart", summary: "Draw the C generator's rows as an SVG chart (see scripts/peers.sh --svg)", arguments: CommandLineArguments(
            command: "actor-chat-cli chart",
            abstract: "Draw the rows scripts/peers.sh prints (one line per server), or connections runs (scripts/connections-chart.sh), as an SVG chart.",
            options: [
                .init("rows", value: "file", help: "The generator's output (its table rows)."),
                .init("connections", value: "file", help: "A loadtest --scenario connections --json file (repeatable): memory and time against clients.", repeatable: true),
                .init("svg", value: "file", help: "Where to write the chart."),
                .init("scenario", value: "name", help: "The scenario the rows are for (its room size turns messages into deliveries)."),
                .init("caption", value: "text", help: "The caption: the command, the machine and the date."),
            ]), run: chart),
        Subcommand(name: "bench", synopsis: "bench", summary: "A load-test worker (started by loadtest)", arguments: CommandLineArguments(
            command: "actor-chat-cli bench", abstract: "A load-test worker: simulates clients, driven by commands on stdin (used by loadtest).",
            options: [
                .init("scenario", value: "name", help: "One of \(BenchScenario.names.joined(separator: ", "))."),
                .init("clients", value: "n", help: "Clients in the whole scenario (connections and churn)."),
                .init("first", value: "index", help: "The first client this worker simulates (default 0)."),
                .init("count", value: "n", help: "How many clients this worker simulates (default: all)."),
                .init("run-id", value: "id", help: "The prefix of this run's room names."),
                .init("reconnect", help: "A client that loses its connection connects again and resumes its room with since."),
                .init("trickle", help: "Clients arrive one at a time, each joining when its welcome comes back."),
                .init("websocket", help: "Clients speak WebSocket instead of JSON lines."),
            ] + generatorOptions), run: benchWorker),
    ]

    /// What `loadtest` and its `bench` workers both take: where the server is and what a client sends.
    private static let generatorOptions: [CommandLineArguments.Option] = [
        .init("host", value: "host", help: "Server host (default 127.0.0.1)."),
        .init("port", value: "port", help: "Server port (default 7777)."),
        .init("message-bytes", value: "n", help: "Message text size (default 100)."),
        .init("pipeline", value: "n", help: "Messages each sender puts in one write, 1 to 64 (default 1: one per write)."),
    ]

    private static func messageBytes(_ parsed: CommandLineArguments.Parsed) throws(UsageError) -> Int {
        try parsed.integer("message-bytes", in: 24...60000) ?? 100
    }

    private static func pipeline(_ parsed: CommandLineArguments.Parsed) throws(UsageError) -> Int {
        try parsed.integer("pipeline", in: 1...64) ?? 1
    }

    private static func scenario(_ parsed: CommandLineArguments.Parsed) throws -> BenchScenario {
        let name = parsed.value("scenario") ?? "fanout-100"
        guard var scenario = BenchScenario.named(name, clients: try parsed.integer("clients", in: 1...1_000_000)) else {
            throw UsageError("--scenario takes one of \(BenchScenario.names.joined(separator: ", ")), not '\(name)'")
        }
        scenario.runID = parsed.value("run-id") ?? "bench\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        return scenario
    }

    private static func taskFloor(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        let tasks = try parsed.integer("tasks", in: 1...10_000_000) ?? 19000
        let bytes = await TaskFloor.bytesPerTask(tasks: tasks, preference: !parsed.flag("no-preference"))
        print(String(format: "task-floor: %d suspended tasks, %.0f bytes of resident memory each", tasks, bytes))
        return 0
    }

    private static func chart(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        guard let path = parsed.value("svg") else { throw UsageError("chart needs --svg") }
        if let files = parsed.values["connections"] {
            let runs = try files.map { file in
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
                guard let run = object.flatMap(ConnectionsChart.Run.init(json:)) else { throw UsageError("\(file) is not a connections run's --json") }
                return run
            }
            let chart = ConnectionsChart(caption: parsed.value("caption") ?? "scripts/connections-chart.sh", runs: runs)
            try chart.svg().write(toFile: path, atomically: true, encoding: .utf8)
            return 0
        }
        guard let rows = parsed.value("rows") else { throw UsageError("chart needs --rows or --connections") }
        let scenario = try scenario(parsed)
        let series = SweepChart.series(fromPeerRows: try String(contentsOfFile: rows, encoding: .utf8), deliveriesPerMessage: scenario.deliveriesPerMessage)
        guard !series.isEmpty else { throw UsageError("no rows of the generator's table in \(rows)") }
        let chart = SweepChart(
            title: "\(scenario.name): \(scenario.clients) clients in \(scenario.rooms) room(s) of \(scenario.roomSize), one C generator",
            caption: parsed.value("caption") ?? "scripts/peers.sh --scenario \(scenario.name)", series: series)
        try chart.svg().write(toFile: path, atomically: true, encoding: .utf8)
        return 0
    }

    private static func benchWorker(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        let scenario = try scenario(parsed)
        let first = try parsed.integer("first", in: 0...1_000_000) ?? 0
        let count = try parsed.integer("count", in: 0...1_000_000) ?? scenario.clients - first
        _ = DescriptorLimit.raise()
        let worker = try BenchWorker(
            scenario: scenario, indices: first..<(first + count), host: parsed.value("host") ?? "127.0.0.1",
            port: try parsed.integer("port", in: 1...65535) ?? 7777, messageBytes: try messageBytes(parsed), pipeline: try pipeline(parsed),
            reconnects: parsed.flag("reconnect"), trickle: parsed.flag("trickle"), webSocket: parsed.flag("websocket"))
        func answer(_ object: JSONObject) {
            var writer = JSONWriter()
            writer.write(.object(object))
            context.console.out(String(decoding: writer.bytes, as: UTF8.self))
        }
        if scenario.name != "churn" { try await worker.connectAll() }
        answer(["ready": .bool(true)])
        for await line in standardInputLines() {
            let words = line.split(separator: " ")
            switch words.first {
            case "run" where words.count == 3:
                let figures = await worker.run(rate: Double(words[1]) ?? 0, seconds: Double(words[2]) ?? 0)
                answer(["step": figures.json])
            case "verify":
                let (verified, tailLosses, gaps, reconnects) = await worker.verify()
                answer([
                    "verified": .number(String(verified)), "tail_losses": .number(String(tailLosses)), "gaps": .number(String(gaps)),
                    "reconnects": .number(String(reconnects)),
                    "error_codes": .object(JSONObject(worker.errorCodes.map { (key: $0.key, value: .number(String($0.value))) })),
                ])
            case "churn" where words.count == 2:
                let (logins, errors) = await worker.churn(seconds: Double(words[1]) ?? 0, concurrency: max(1, count))
                answer(["logins": .number(String(logins)), "errors": .number(String(errors))])
            default:
                await worker.stop()
                return 0
            }
        }
        await worker.stop()
        return 0
    }

    private static func loadTest(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        var options = LoadTest.Options(scenario: try scenario(parsed))
        options.host = parsed.value("host") ?? "127.0.0.1"
        options.port = try parsed.integer("port", in: 1...65535) ?? 7777
        options.rate = try parsed.number("rate", in: 0...1e9)
        options.seconds = try parsed.seconds("seconds", in: 0.1...3600) ?? 10
        options.sweep = parsed.flag("sweep")
        options.stepFactor = try parsed.number("step-factor", in: 1.01...4) ?? 1.25
        options.soak = parsed.flag("soak")
        options.restartServer = parsed.flag("restart")
        options.workers = try parsed.integer("workers", in: 1...64) ?? 1
        options.messageBytes = try messageBytes(parsed)
        options.pipeline = try pipeline(parsed)
        options.serverPID = try parsed.integer("server-pid", in: 1...Int(Int32.max)).map { Int32($0) }
        if options.restartServer, options.serverPID == nil || options.sweep {
            throw UsageError("--restart needs --server-pid, and runs one step (no --sweep)")
        }
        options.jsonPath = parsed.value("json")
        options.adminToken = parsed.value("token")
        options.historyProbe = parsed.flag("history-probe")
        options.loginStorm = try parsed.seconds("login-storm", in: 0.1...10_000)
        options.svgPath = parsed.value("svg")
        options.trickle = parsed.flag("trickle")
        options.webSocket = parsed.flag("websocket")
        options.caption = parsed.value("caption")
        if options.historyProbe, options.adminToken == nil { throw UsageError("--history-probe needs --token (the server's admin token)") }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let progress = ProgressLine()
        let console = context.console
        let loadTest = LoadTest(options: options, say: { line in
            progress.clear()
            console.out(line)
        }, progress: progress.show)
        defer { progress.clear() }
        _ = try await loadTest.run(executable: executable)
        return 0
    }
}
