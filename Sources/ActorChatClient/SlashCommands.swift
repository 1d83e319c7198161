import ActorChatCore
import ActorChatProtocol
/// The commands typed inside a room, as a registry: adding one is one registration.
package struct SlashCommands: Sendable {
    package enum Outcome: Sendable, Equatable {
        case proceed
        case quit
    }

    package typealias Run = @Sendable (_ session: ClientSession, _ arguments: [String], _ output: @Sendable (String) -> Void) async throws -> Outcome

    package struct Command: Sendable {
        package let name: String
        package let aliases: [String]
        package let usage: String
        package let summary: String
        /// How many arguments it needs at least, and at most (nil: the rest of the line is the last one).
        package let arguments: ClosedRange<Int>
        package let restIsText: Bool
        let run: Run
    }

    private var commands: [String: Command] = [:]
    private var order: [String] = []

    package init() {}

    /// Registers a command; the last argument takes the rest of the line when `restIsText`.
    package mutating func on(
        _ name: String, aliases: [String] = [], usage: String, _ summary: String, arguments: ClosedRange<Int> = 0...0,
        restIsText: Bool = false, run: @escaping Run
    ) {
        let command = Command(name: name, aliases: aliases, usage: usage, summary: summary, arguments: arguments, restIsText: restIsText, run: run)
        for key in [name] + aliases {
            precondition(commands[key] == nil, "/\(key) is registered twice")
            commands[key] = command
        }
        order.append(name)
    }

    package var names: [String] { order }

    /// The help text: one line per command.
    package var help: String {
        order.compactMap { commands[$0] }.map { command in
            let left = command.usage + (command.aliases.isEmpty ? "" : " (" + command.aliases.map { "/\($0)" }.joined(separator: ", ") + ")")
            return left.padding(to: 28) + command.summary
        }.joined(separator: "\n")
    }

    /// Runs a line that starts with `/`. Unknown commands and wrong arguments print a hint and send nothing.
    package func execute(_ line: String, session: ClientSession, output: @escaping @Sendable (String) -> Void) async -> Outcome {
        let words = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first, let command = commands[String(first)] else {
            output("! unknown command '\(line.split(separator: " ").first ?? "")'; /help lists the commands")
            return .proceed
        }
        var arguments = words.dropFirst().map(String.init)
        if command.restIsText && arguments.count > command.arguments.upperBound {
            let head = arguments.prefix(command.arguments.upperBound - 1)
            let rest = arguments.dropFirst(command.arguments.upperBound - 1).joined(separator: " ")
            arguments = Array(head) + [rest]
        }
        guard command.arguments.contains(arguments.count) else {
            output("! usage: \(command.usage)")
            return .proceed
        }
        do {
            return try await command.run(session, arguments, output)
        } catch {
            output("! \(error)")
            return .proceed
        }
    }

    /// The room an optional argument names, else the session's current one; nil (after a hint) when neither.
    private static func room(named arguments: [String], orCurrentOf session: ClientSession, output: @Sendable (String) -> Void) async -> String? {
        if let room = arguments.first { return room }
        if let current = await session.current { return current }
        output("! you are in no room: name one")
        return nil
    }

    /// The commands of `actor-chat-cli join`.
    package static let chat: SlashCommands = {
        var commands = SlashCommands()
        commands.on("help", usage: "/help", "show this help") { _, _, output in
            output(SlashCommands.chat.help)
            return .proceed
        }
        commands.on("rooms", usage: "/rooms", "list rooms") { session, _, output in
            let rooms = try await session.request("rooms")["rooms"]?.array ?? []
            output(rooms.isEmpty ? "* no rooms" : rooms.compactMap(\.object).map { room in
                "* \(Renderer.neutralize(room["name"]?.string ?? "")) \(room["count"]?.integer ?? 0)/\(room["limit"]?.integer ?? 0)"
            }.joined(separator: "\n"))
            return .proceed
        }
        commands.on("who", usage: "/who [ROOM]", "list a room's members", arguments: 0...1) { session, arguments, output in
            guard let room = await room(named: arguments, orCurrentOf: session, output: output) else { return .proceed }
            let reply = try await session.request("who", ["room": .string(room)])
            let members = Renderer.members(reply.params)
            output("* \(Renderer.neutralize(reply["room"]?.string ?? room)) (\(members.count)/\(reply["limit"]?.integer ?? 0)): \(members.joined(separator: ", "))")
            return .proceed
        }
        commands.on("join", usage: "/join ROOM", "join a room and talk there", arguments: 1...1) { session, arguments, _ in
            try await session.join(arguments[0])
            return .proceed
        }
        commands.on("history", usage: "/history [N]", "show N earlier messages of this room (default 20)", arguments: 0...1) { session, arguments, output in
            guard let count = arguments.isEmpty ? 20 : Int(arguments[0]), count > 0 else {
                output("! usage: /history [N] (N is a whole number from 1 to 200)")
                return .proceed
            }
            try await session.showHistory(count)
            return .proceed
        }
        commands.on("leave", usage: "/leave [ROOM]", "leave a room (default: the current one)", arguments: 0...1) { session, arguments, output in
            guard let room = await room(named: arguments, orCurrentOf: session, output: output) else { return .proceed }
            try await session.leave(room)
            return .proceed
        }
        commands.on("switch", usage: "/switch ROOM", "send plain lines to another room you are in", arguments: 1...1) { session, arguments, output in
            try await session.switchTo(arguments[0])
            output("* talking in \(await session.current ?? arguments[0])")
            return .proceed
        }
        commands.on("create", usage: "/create ROOM LIMIT [private]", "create a room (private: seen only by those invited)", arguments: 2...3) { session, arguments, output in
            guard let limit = Int(arguments[1]), arguments.count == 2 || arguments[2] == "private" else {
                output("! usage: /create ROOM LIMIT [private] (LIMIT is a whole number)")
                return .proceed
            }
            var params: JSONObject = ["room": .string(arguments[0]), "limit": .number(String(limit))]
            if arguments.count == 3 { params["private"] = .bool(true) }
            await session.show(try await session.request("create_room", params))
            return .proceed
        }
        commands.on("msg", usage: "/msg USER TEXT", "send a direct message", arguments: 2...2, restIsText: true) { session, arguments, output in
            await session.show(try await session.request("dm", ["to": .string(arguments[0]), "text": .string(arguments[1])]))
            return .proceed
        }
        commands.on("close", usage: "/close ROOM", "close a room (its creator or an admin)", arguments: 1...1) { session, arguments, _ in
            await session.show(try await session.request("close_room", ["room": .string(arguments[0])]))
            return .proceed
        }
        commands.on("kick", usage: "/kick ROOM USER", "remove a user from a room (its owner, a moderator or an admin)", arguments: 2...2) { session, arguments, output in
            try await session.request("kick", ["room": .string(arguments[0]), "user": .string(arguments[1])])
            output("* kicked \(Renderer.neutralize(arguments[1])) from \(Renderer.neutralize(arguments[0]))")
            return .proceed
        }
        // The replies (role_changed, user_banned, user_unbanned, invited, uninvited) render themselves.
        for (name, usage, summary) in [
            ("op", "/op ROOM USER", "make a registered user a moderator of a room (its owner or an admin)"),
            ("deop", "/deop ROOM USER", "take a moderator's role away"),
            ("ban", "/ban ROOM USER", "ban a name from a room and remove it (owner, moderators, admins)"),
            ("unban", "/unban ROOM USER", "lift a ban"),
            ("invite", "/invite ROOM USER", "let a user see and join a (private) room, past its limit"),
            ("uninvite", "/uninvite ROOM USER", "withdraw an invite"),
        ] {
            commands.on(name, usage: usage, summary, arguments: 2...2) { session, arguments, output in
                let reply = try await session.request(name, ["room": .string(arguments[0]), "user": .string(arguments[1])])
                output(Renderer(color: false, me: "").render(reply) ?? "")
                return .proceed
            }
        }
        commands.on("passwd", usage: "/passwd", "change your account's password (asked for, unechoed)") { session, _, output in
            output(try await session.changePassword())
            return .proceed
        }
        commands.on("quit", aliases: ["sair", "exit"], usage: "/quit", "leave and exit") { _, _, _ in .quit }
        return commands
    }()
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
