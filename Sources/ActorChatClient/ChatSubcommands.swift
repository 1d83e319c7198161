import ActorChatCore
import ActorChatProtocol
import Foundation
import Glibc

/// The client's subcommands: the interactive `join` and the scriptable one-shots.
extension ChatCommandLine {
    static let connectionOptions: [CommandLineArguments.Option] = [
        .init("host", value: "host", help: "Server host (default localhost)."),
        .init("port", value: "port", help: "Server port (default 7777)."),
        .init("name", value: "name", help: "Your user name (default: ACTOR_CHAT_NAME, else $USER, else $LOGNAME, else uid<N>)."),
        .init("token", value: "token", help: "Admin token (or ACTOR_CHAT_ADMIN_TOKEN)."),
        .init("password-stdin", help: "Read a registered name's password from the first line of stdin (or ACTOR_CHAT_PASSWORD; else a prompt asks)."),
        .init("json", help: "Print the server's events as JSON lines, for scripts."),
    ]

    package static let subcommands: [Subcommand] = [
        Subcommand(name: "join", synopsis: "join ROOM", summary: "Join a room and chat (interactive, or one message per input line)", arguments: CommandLineArguments(
            command: "actor-chat-cli join", abstract: "Join a room and chat (each input line is a message when stdin is not a terminal).",
            options: connectionOptions + [
                .init("create", help: "Create the room first if it does not exist."),
                .init("limit", value: "n", help: "The participant limit for --create (default 100)."),
                .init("history", value: "n", help: "Earlier messages to show on joining, 0 to 200 (default 20 in a terminal, 0 when piped)."),
            ],
            positionals: [.init("room", help: "The room to join.")]), run: join),
        Subcommand(name: "register", synopsis: "register NAME", summary: "Register a name with a password", arguments: CommandLineArguments(
            command: "actor-chat-cli register", abstract: "Register a name with a password (asked twice, unechoed; or --password-stdin, or ACTOR_CHAT_PASSWORD).",
            options: connectionOptions.filter { !["name", "token"].contains($0.name) },
            positionals: [.init("name", help: "The name to register.")]), run: register),
        Subcommand(name: "rooms", synopsis: "rooms", summary: "List the rooms", arguments: CommandLineArguments(
            command: "actor-chat-cli rooms", abstract: "List the rooms.", options: connectionOptions), run: { parsed, context in
                try await oneShot(context, "rooms") { reply in
                    (reply["rooms"]?.array ?? []).compactMap(\.object).map {
                        "\(Renderer.neutralize($0["name"]?.string ?? "")) \($0["count"]?.integer ?? 0)/\($0["limit"]?.integer ?? 0)"
                    }
                }
            }),
        Subcommand(name: "who", synopsis: "who ROOM", summary: "List a room's members", arguments: CommandLineArguments(
            command: "actor-chat-cli who", abstract: "List a room's members.", options: connectionOptions,
            positionals: [.init("room", help: "The room.")]), run: { parsed, context in
                try await oneShot(context, "who", ["room": .string(parsed.positional("room") ?? "")]) { reply in
                    Renderer.members(reply.params)
                }
            }),
        Subcommand(name: "create", synopsis: "create ROOM --limit N", summary: "Create a room", arguments: CommandLineArguments(
            command: "actor-chat-cli create", abstract: "Create a room.",
            options: connectionOptions + [.init("limit", value: "n", help: "The participant limit (required).")],
            positionals: [.init("room", help: "The room's name.")]), run: { parsed, context in
                guard let limit = try parsed.integer("limit", in: 1...Int.max) else { throw UsageError("--limit is required") }
                return try await oneShot(context, "create_room", ["room": .string(parsed.positional("room") ?? ""), "limit": .number(String(limit))]) { reply in
                    ["created \(Renderer.neutralize(reply["room"]?.object?["name"]?.string ?? "")) (limit \(limit))"]
                }
            }),
        Subcommand(name: "send", synopsis: "send ROOM TEXT...", summary: "Send one message", arguments: CommandLineArguments(
            command: "actor-chat-cli send", abstract: "Send one message to a room (joining and leaving it).", options: connectionOptions,
            positionals: [.init("room", help: "The room."), .init("text", help: "The message.", variadic: true)]), run: send),
        Subcommand(name: "history", synopsis: "history ROOM", summary: "Print a room's stored messages", arguments: CommandLineArguments(
            command: "actor-chat-cli history", abstract: "Print a room's stored messages, oldest first (joining and leaving it).",
            options: connectionOptions + [
                .init("limit", value: "n", help: "How many, 1 to 200 (default 50)."),
                .init("before", value: "seq", help: "Only messages before this seq (to page back)."),
            ],
            positionals: [.init("room", help: "The room.")]), run: history),
        Subcommand(name: "close", synopsis: "close ROOM", summary: "Close a room (creator or admin)", arguments: CommandLineArguments(
            command: "actor-chat-cli close", abstract: "Close a room (its creator or an admin).", options: connectionOptions,
            positionals: [.init("room", help: "The room.")]), run: { parsed, context in
                try await oneShot(context, "close_room", ["room": .string(parsed.positional("room") ?? "")]) { reply in
                    ["closed \(Renderer.neutralize(reply["room"]?.string ?? ""))"]
                }
            }),
        Subcommand(name: "logs", synopsis: "logs", summary: "Print the server's recent log lines (admin)", arguments: CommandLineArguments(
            command: "actor-chat-cli logs", abstract: "Print the server's recent log lines (admin).",
            options: connectionOptions + [.init("limit", value: "n", help: "How many lines (default 100).")]), run: { parsed, context in
                let limit = try parsed.integer("limit", in: 0...1_000_000) ?? 100
                return try await oneShot(context, "logs", ["limit": .number(String(limit))]) { reply in
                    (reply["lines"]?.array ?? []).compactMap { $0.string.map(Renderer.neutralize) }
                }
            }),
    ]

    /// Connects and logs in under `--name`, else the default name. When that name is in use (the
    /// same person's interactive session, say), a one-shot logs in under it with a suffix instead.
    private static func connect(_ context: Context) async throws -> ChatClient {
        let client: ChatClient
        do {
            client = try await ChatClient.connect(host: context.host, port: context.port)
        } catch {
            throw cannotConnect(context.host, context.port, error)
        }
        let name = context.name ?? defaultName(context.environment)
        do {
            try await client.login(name, token: context.token, password: context.password)
        } catch ClientError.server(code: "name_taken", _) where context.name == nil {
            try await client.login("\(name.prefix(27))-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))", token: context.token)
        } catch ClientError.server(code: "auth_failed", let message) where context.password == nil {
            // A registered name: its password, typed at the terminal.
            guard context.console.interactive, let password = SecretInput.read("password for \(name): ") else {
                throw ClientError.server(code: "auth_failed", message: "\(message) (give it with --password-stdin or ACTOR_CHAT_PASSWORD)")
            }
            try await client.login(name, token: context.token, password: password)
        }
        return client
    }

    private static func register(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        let name = parsed.positional("name") ?? ""
        let password: String
        if let given = context.password {
            password = given
        } else {
            guard context.console.interactive, let first = SecretInput.read("password for \(name): "), let second = SecretInput.read("the same again: ") else {
                throw UsageError("register needs a password: type it at the prompt, or give --password-stdin or ACTOR_CHAT_PASSWORD")
            }
            guard first == second else { throw ClientError.server(code: "mismatch", message: "the two passwords differ; nothing was registered") }
            password = first
        }
        let client: ChatClient
        do {
            client = try await ChatClient.connect(host: context.host, port: context.port)
        } catch {
            throw cannotConnect(context.host, context.port, error)
        }
        defer { client.close() }
        let reply = try await client.request("register", ["name": .string(name), "password": .string(password)])
        context.console.out(context.json ? reply.description : "registered \(Renderer.neutralize(reply["name"]?.string ?? name)); log in with --name \(name) (the password is asked for, or read from --password-stdin or ACTOR_CHAT_PASSWORD)")
        return 0
    }

    /// The name used without `--name`, the same every time: `ACTOR_CHAT_NAME`, else `$USER`, else
    /// `$LOGNAME` (the first that is a valid user name), else `uid` and the user id. Stable, so a
    /// room created by one command can be closed by the next.
    static func defaultName(_ environment: [String: String]) -> String {
        for key in ["ACTOR_CHAT_NAME", "USER", "LOGNAME"] {
            if let name = environment[key], Names.problem(with: name, maxLength: Names.maxUserName) == nil { return name }
        }
        return "uid\(getuid())"
    }

    /// Joins, and when the room does not exist, says how to make it.
    private static func joinOrHint(_ session: ClientSession, _ room: String, createLimit: Int?) async throws {
        do {
            try await session.join(room, createLimit: createLimit)
        } catch ClientError.server(code: "room_not_found", let message) {
            throw ClientError.server(code: "room_not_found", message: "\(message); to create it: actor-chat-cli join \(room) --create --limit N")
        }
    }

    /// What a failed connect says: where it tried, and the likely cause.
    private static func cannotConnect(_ host: String, _ port: Int, _ error: any Error) -> ClientError {
        .server(code: "connect", message: "cannot connect to \(host):\(port) (\(error)); is the server running?")
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

    private static func history(_ parsed: CommandLineArguments.Parsed, _ context: Context) async throws -> Int32 {
        let room = parsed.positional("room") ?? ""
        var params: JSONObject = ["room": .string(room), "limit": .number(String(try parsed.integer("limit", in: 1...200) ?? 50))]
        if let before = try parsed.integer("before", in: 1...Int.max) { params["before"] = .number(String(before)) }
        let client = try await connect(context)
        defer { client.close() }
        try await client.request("join", ["room": .string(room)])
        let page = try await client.request("history", params)
        if context.json {
            context.console.out(page.description)
        } else {
            let renderer = Renderer(color: false, me: "")
            for message in (page["messages"]?.array ?? []).compactMap(\.object) {
                var params = message
                params["room"] = page["room"]
                context.console.out("#\(message["seq"]?.integer ?? 0) " + (renderer.render(ServerFrame(event: "message", params: params)) ?? ""))
            }
            if page["more"] == .bool(true) { context.console.out("(older messages: --before \(page["messages"]?.array?.first?.object?["seq"]?.integer ?? 0))") }
        }
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
        var options = ClientSession.Options(name: name ?? defaultName(context.environment))
        options.host = context.host
        options.port = context.port
        options.token = context.token
        options.password = context.password
        options.history = try parsed.integer("history", in: 0...200) ?? (context.console.interactive ? 20 : 0)
        if context.console.interactive, let prompt = TerminalPrompt() {
            options.askPassword = { label in prompt.readSecret(label) }
            options.askSecret = { label in await prompt.readSecretLine(label) }
            return try await chat(in: room, createLimit: createLimit, options: options, prompt: prompt, color: context.console.color)
        }
        options.json = context.json
        let output = context.console.out
        let session = ClientSession(options: options, color: false, output: output)
        do {
            try await session.start()
        } catch let error as SystemError {
            throw cannotConnect(options.host, options.port, error)
        }
        try await joinOrHint(session, room, createLimit: createLimit)
        let (lines, events) = untilSessionEnds(session, standardInputLines(), end: "")
        for await line in lines where !line.isEmpty {
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
        return await session.ended ? 1 : 0
    }

    /// `input` until it ends or the session does (its account logged in elsewhere), and the task
    /// that runs the session; `end` is what the input sees when the session ends first.
    private static func untilSessionEnds<Input: Sendable>(
        _ session: ClientSession, _ input: AsyncStream<Input>, end: Input
    ) -> (AsyncStream<Input>, Task<Void, Never>) {
        let (merged, feed) = AsyncStream.makeStream(of: Input.self)
        Task {
            for await item in input { feed.yield(item) }
            feed.finish()
        }
        let events = Task {
            await session.run()
            if await session.ended {
                feed.yield(end)
                feed.finish()
            }
        }
        return (merged, events)
    }

    private static func chat(in room: String, createLimit: Int?, options: ClientSession.Options, prompt: TerminalPrompt, color: Bool) async throws -> Int32 {
        defer { prompt.restore() }
        let session = ClientSession(options: options, color: color, output: prompt.print, status: prompt.setStatus)
        do {
            try await session.start()
        } catch let error as SystemError {
            throw cannotConnect(options.host, options.port, error)
        }
        try await joinOrHint(session, room, createLimit: createLimit)
        prompt.print("* /help lists the commands; Ctrl-D or /quit leaves")
        prompt.setPrompt("[\(await session.current ?? room)] > ")
        let (actions, events) = untilSessionEnds(session, prompt.actions(), end: .endOfInput)
        input: for await action in actions {
            switch action {
            case .submit(let line) where line.hasPrefix("/"):
                if await SlashCommands.chat.execute(line, session: session, output: prompt.print) == .quit { break input }
            case .submit(let line) where !line.trimmingCharacters(in: .whitespaces).isEmpty:
                do {
                    try await session.say(line)
                } catch ClientError.notConnected {
                    // Kept, not lost: the line goes back into the input for Enter to send again.
                    prompt.print("! not sent: not connected to the server; press Enter to send it once reconnected")
                    prompt.retype(line)
                } catch {
                    prompt.print("! \(error)")
                }
            case .endOfInput, .interrupt:
                break input
            default:
                break
            }
            prompt.setPrompt("[\(await session.current ?? "no room")] > ")
        }
        await session.quit()
        await events.value
        return await session.ended ? 1 : 0
    }
}
