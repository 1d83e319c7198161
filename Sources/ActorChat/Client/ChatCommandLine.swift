#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// `actor-chat-cli`: the interactive `join` and the scriptable one-shot commands.
public enum ChatCommandLine {
    /// Where the tool writes: stdout and stderr in the executable, buffers in tests.
    public struct Console: Sendable {
        public var out: @Sendable (String) -> Void
        public var err: @Sendable (String) -> Void
        /// Stdin and stdout are a terminal: `join` is interactive.
        public var interactive: Bool
        public var color: Bool

        public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, interactive: Bool, color: Bool) {
            self.out = out
            self.err = err
            self.interactive = interactive
            self.color = color
        }
    }

    static let connectionOptions: [CommandLineArguments.Option] = [
        .init("host", value: "host", help: "Server host (default localhost)."),
        .init("port", value: "port", help: "Server port (default 7777)."),
        .init("name", value: "name", help: "Your user name (default: $USER, or asked when interactive)."),
        .init("token", value: "token", help: "Admin token (or ACTOR_CHAT_ADMIN_TOKEN)."),
        .init("json", help: "Print the server's events as JSON lines, for scripts."),
    ]

    public struct Subcommand: Sendable {
        public let arguments: CommandLineArguments
        let run: @Sendable (CommandLineArguments.Parsed, Context) async throws -> Int32
    }

    struct Context: Sendable {
        let console: Console
        let environment: [String: String]
        let host: String
        let port: Int
        let name: String?
        let token: String?
        let json: Bool
    }

    public static let subcommands: [String: Subcommand] = [
        "join": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli join", abstract: "Join a room and chat (each input line is a message when stdin is not a terminal).",
            options: connectionOptions + [
                .init("create", help: "Create the room first if it does not exist."),
                .init("limit", value: "n", help: "The participant limit for --create (default 100)."),
            ],
            positionals: [.init("room", help: "The room to join.")]), run: join),
        "rooms": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli rooms", abstract: "List the rooms.", options: connectionOptions), run: { parsed, context in
                try await oneShot(context, "rooms") { reply in
                    (reply["rooms"]?.array ?? []).compactMap(\.object).map {
                        "\(Renderer.neutralize($0["name"]?.string ?? "")) \($0["count"]?.integer ?? 0)/\($0["limit"]?.integer ?? 0)"
                    }
                }
            }),
        "who": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli who", abstract: "List a room's members.", options: connectionOptions,
            positionals: [.init("room", help: "The room.")]), run: { parsed, context in
                try await oneShot(context, "who", ["room": .string(parsed.positional("room") ?? "")]) { reply in
                    (reply["members"]?.array ?? []).compactMap { $0.string.map(Renderer.neutralize) }
                }
            }),
        "create": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli create", abstract: "Create a room.",
            options: connectionOptions + [.init("limit", value: "n", help: "The participant limit (required).")],
            positionals: [.init("room", help: "The room's name.")]), run: { parsed, context in
                guard let limit = try parsed.integer("limit", in: 1...Int.max) else { throw UsageError("--limit is required") }
                return try await oneShot(context, "create_room", ["room": .string(parsed.positional("room") ?? ""), "limit": .number(String(limit))]) { reply in
                    ["created \(Renderer.neutralize(reply["room"]?.object?["name"]?.string ?? "")) (limit \(limit))"]
                }
            }),
        "send": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli send", abstract: "Send one message to a room (joining and leaving it).", options: connectionOptions,
            positionals: [.init("room", help: "The room."), .init("text", help: "The message.", variadic: true)]), run: send),
        "close": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli close", abstract: "Close a room (its creator or an admin).", options: connectionOptions,
            positionals: [.init("room", help: "The room.")]), run: { parsed, context in
                try await oneShot(context, "close_room", ["room": .string(parsed.positional("room") ?? "")]) { reply in
                    ["closed \(Renderer.neutralize(reply["room"]?.string ?? ""))"]
                }
            }),
        "logs": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli logs", abstract: "Print the server's recent log lines (admin).",
            options: connectionOptions + [.init("limit", value: "n", help: "How many lines (default 100).")]), run: { parsed, context in
                let limit = try parsed.integer("limit", in: 0...1_000_000) ?? 100
                return try await oneShot(context, "logs", ["limit": .number(String(limit))]) { reply in
                    (reply["lines"]?.array ?? []).compactMap { $0.string.map(Renderer.neutralize) }
                }
            }),
    ]

    static let benchSubcommands: [String: Subcommand] = [
        "bench": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli bench", abstract: "A load-test worker: simulates clients, driven by commands on stdin (used by loadtest).",
            options: [
                .init("scenario", value: "name", help: "One of \(BenchScenario.names.joined(separator: ", "))."),
                .init("clients", value: "n", help: "Clients in the whole scenario (connections and churn)."),
                .init("first", value: "index", help: "The first client this worker simulates (default 0)."),
                .init("count", value: "n", help: "How many clients this worker simulates (default: all)."),
                .init("run-id", value: "id", help: "The prefix of this run's room names."),
            ] + generatorOptions), run: benchWorker),
        "loadtest": Subcommand(arguments: CommandLineArguments(
            command: "actor-chat-cli loadtest", abstract: "Run a load-test scenario against a running server and print the figures.",
            options: [
                .init("scenario", value: "name", help: "One of \(BenchScenario.names.joined(separator: ", ")) (default fanout-100)."),
                .init("rate", value: "msgs/s", help: "Offered messages per second (default: the scenario's)."),
                .init("seconds", value: "s", help: "Seconds per step (default 10)."),
                .init("sweep", help: "Raise the rate ×1.25 per step until delivery < 99% or p99 > 200 ms."),
                .init("soak", help: "Check the delivery promise (no loss, duplicate or reorder); exit 1 if broken."),
                .init("workers", value: "n", help: "Worker processes (default 1; more for over 19,000 clients)."),
                .init("clients", value: "n", help: "Clients, for connections and churn (default 19000 and 200)."),
                .init("server-pid", value: "pid", help: "The server's pid, to report its CPU and memory."),
                .init("json", value: "file", help: "Also write the figures to this file as JSON."),
            ] + generatorOptions), run: loadTest),
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

    private static func benchWorker(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        let scenario = try scenario(parsed)
        let first = try parsed.integer("first", in: 0...1_000_000) ?? 0
        let count = try parsed.integer("count", in: 0...1_000_000) ?? scenario.clients - first
        _ = ChatServer.raiseDescriptorLimit()
        let worker = try BenchWorker(
            scenario: scenario, indices: first..<(first + count), host: parsed.value("host") ?? "127.0.0.1",
            port: try parsed.integer("port", in: 1...65535) ?? 7777, messageBytes: try messageBytes(parsed), pipeline: try pipeline(parsed))
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
        options.rate = try parsed.seconds("rate", in: 0...1e9)
        options.seconds = try parsed.seconds("seconds", in: 0.1...3600) ?? 10
        options.sweep = parsed.flag("sweep")
        options.soak = parsed.flag("soak")
        options.workers = try parsed.integer("workers", in: 1...64) ?? 1
        options.messageBytes = try messageBytes(parsed)
        options.pipeline = try pipeline(parsed)
        options.serverPID = try parsed.integer("server-pid", in: 1...Int(Int32.max)).map { Int32($0) }
        options.jsonPath = parsed.value("json")
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        _ = try await LoadTest(options: options, say: context.console.out, progress: context.console.err).run(executable: executable)
        return 0
    }

    public static var usage: String {
        """
        OVERVIEW: The ActorChat client: chat in a room, or script the server.

        USAGE: actor-chat-cli <subcommand> [<options>]

        SUBCOMMANDS:
          join ROOM             Join a room and chat (interactive, or one message per input line)
          rooms                 List the rooms
          who ROOM              List a room's members
          create ROOM --limit N Create a room
          send ROOM TEXT...     Send one message
          close ROOM            Close a room (creator or admin)
          logs                  Print the server's recent log lines (admin)
          loadtest              Run a load-test scenario (see scripts/loadtest.sh)
          bench                 A load-test worker (started by loadtest)

          See 'actor-chat-cli <subcommand> --help' for a subcommand's options.
        """
    }

    /// Runs the tool; returns the exit code (64 for a command line that cannot be run).
    public static func main(_ arguments: [String], environment: [String: String], console: Console) async -> Int32 {
        guard let name = arguments.first, name != "--help", name != "-h" else {
            (arguments.isEmpty ? console.err : console.out)(usage)
            return arguments.isEmpty ? 64 : 0
        }
        guard let subcommand = subcommands[name] ?? benchSubcommands[name] else {
            console.err("error: unknown subcommand '\(name)'\n\n\(usage)")
            return 64
        }
        let parsed: CommandLineArguments.Parsed
        let context: Context
        do {
            parsed = try subcommand.arguments.parse(arguments.dropFirst())
            if parsed.flag("help") {
                console.out(subcommand.arguments.usage)
                return 0
            }
            context = Context(
                console: console, environment: environment, host: parsed.value("host") ?? "localhost",
                port: try parsed.integer("port", in: 1...65535) ?? 7777, name: parsed.value("name"),
                token: parsed.value("token") ?? environment["ACTOR_CHAT_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
                json: parsed.flag("json"))
        } catch {
            console.err("error: \(error)\n\n\(subcommand.arguments.usage)")
            return 64
        }
        do {
            return try await subcommand.run(parsed, context)
        } catch let error as UsageError {
            console.err("error: \(error)\n\n\(subcommand.arguments.usage)")
            return 64
        } catch {
            console.err("error: \(error)")
            return 1
        }
    }

    /// Connects and logs in. One-shots log in under a name of their own, so they never collide with
    /// the same person's interactive session.
    private static func connect(_ context: Context) async throws -> ChatClient {
        let client: ChatClient
        do {
            client = try await ChatClient.connect(host: context.host, port: context.port)
        } catch {
            throw ClientError.server(code: "connect", message: "cannot connect to \(context.host):\(context.port): \(error)")
        }
        let base = context.environment["USER"].flatMap { Names.problem(with: $0, maxLength: 20) == nil ? $0 : nil } ?? "cli"
        let name = context.name ?? "\(base)-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
        try await client.login(name, token: context.token)
        return client
    }

    private static func oneShot(
        _ context: Context, _ event: String, _ params: JSONObject = [:], lines: (ServerFrame) -> [String]
    ) async throws -> Int32 {
        let client = try await connect(context)
        defer { client.close() }
        let reply = try await client.request(event, params)
        if context.json {
            context.console.out(reply.description)
        } else {
            lines(reply).forEach(context.console.out)
        }
        _ = try? await client.request("logout", timeout: .seconds(2))
        return 0
    }

    private static func send(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        let room = parsed.positional("room") ?? ""
        let text = (parsed.positionals["text"] ?? []).joined(separator: " ")
        let client = try await connect(context)
        defer { client.close() }
        try await client.request("join", ["room": .string(room)])
        let sent = try await client.request("send", ["room": .string(room), "text": .string(text)])
        context.console.out(context.json ? sent.description : "sent to \(Renderer.neutralize(room)) (seq \(sent["seq"]?.integer ?? 0))")
        try await client.request("leave", ["room": .string(room)])
        _ = try? await client.request("logout", timeout: .seconds(2))
        return 0
    }

    private static func join(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        let room = parsed.positional("room") ?? ""
        let createLimit = parsed.flag("create") ? (try parsed.integer("limit", in: 1...Int.max) ?? 100) : nil
        var name = context.name
        if name == nil && context.console.interactive {
            context.console.out("name: ")
            name = readLine()?.trimmingCharacters(in: .whitespaces)
        }
        var options = ClientSession.Options(name: name ?? context.environment["USER"] ?? "guest")
        options.host = context.host
        options.port = context.port
        options.token = context.token
        if context.console.interactive, let prompt = TerminalPrompt() {
            return try await chat(in: room, createLimit: createLimit, options: options, prompt: prompt, color: context.console.color)
        }
        options.json = context.json
        let output = context.console.out
        let session = ClientSession(options: options, color: false, output: output)
        try await session.start()
        try await session.join(room, createLimit: createLimit)
        let events = Task { await session.run() }
        for await line in standardInputLines() where !line.isEmpty {
            do {
                if line.hasPrefix("/") {
                    if await SlashCommands.chat.execute(line, session: session, output: output) == .quit { break }
                } else {
                    try await session.say(line)
                }
            } catch {
                context.console.err("! \(error)")
            }
        }
        for joined in await session.rooms { try? await session.leave(joined) }
        await session.quit()
        await events.value
        return 0
    }

    private static func chat(in room: String, createLimit: Int?, options: ClientSession.Options, prompt: TerminalPrompt, color: Bool) async throws -> Int32 {
        defer { prompt.restore() }
        let session = ClientSession(options: options, color: color, output: prompt.print)
        try await session.start()
        try await session.join(room, createLimit: createLimit)
        prompt.print("* /help lists the commands; Ctrl-D or /quit leaves")
        prompt.setPrompt("[\(await session.current ?? room)] > ")
        let events = Task { await session.run() }
        input: for await action in prompt.actions() {
            switch action {
            case .submit(let line) where line.hasPrefix("/"):
                if await SlashCommands.chat.execute(line, session: session, output: prompt.print) == .quit { break input }
            case .submit(let line) where !line.trimmingCharacters(in: .whitespaces).isEmpty:
                do { try await session.say(line) } catch { prompt.print("! \(error)") }
            case .endOfInput, .interrupt:
                break input
            default:
                break
            }
            prompt.setPrompt("[\(await session.current ?? "no room")] > ")
        }
        await session.quit()
        await events.value
        return 0
    }
}
