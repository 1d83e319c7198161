import ActorChatCore
import ActorChatProtocol
import Foundation

/// `actor-chat-cli`'s frame: its subcommands, how they are found and run, and where they write.
/// The client's subcommands are `ChatCommandLine.subcommands`; the executable adds the bench's.
package enum ChatCommandLine {
    /// Where the tool writes: stdout and stderr in the executable, buffers in tests.
    package struct Console: Sendable {
        package var out: @Sendable (String) -> Void
        package var err: @Sendable (String) -> Void
        /// Stdin and stdout are a terminal: `join` is interactive.
        package var interactive: Bool
        package var color: Bool

        package init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void, interactive: Bool, color: Bool) {
            self.out = out
            self.err = err
            self.interactive = interactive
            self.color = color
        }
    }

    package struct Subcommand: Sendable {
        package let name: String
        /// How the overview shows it: `join ROOM`, and one line on what it does.
        package let synopsis: String
        package let summary: String
        package let arguments: CommandLineArguments
        package let run: @Sendable (CommandLineArguments.Parsed, Context) async throws -> Int32

        package init(
            name: String, synopsis: String, summary: String, arguments: CommandLineArguments,
            run: @escaping @Sendable (CommandLineArguments.Parsed, Context) async throws -> Int32
        ) {
            self.name = name
            self.synopsis = synopsis
            self.summary = summary
            self.arguments = arguments
            self.run = run
        }
    }

    /// What every subcommand is given besides its own flags.
    package struct Context: Sendable {
        package let console: Console
        package let environment: [String: String]
        package let host: String
        package let port: Int
        package let name: String?
        package let token: String?
        /// An account's password: `--password-stdin` (the first line of stdin), else ACTOR_CHAT_PASSWORD.
        package let password: String?
        package let json: Bool
    }

    package static func usage(_ subcommands: [Subcommand]) -> String {
        let width = subcommands.map(\.synopsis.count).max() ?? 0
        let lines = subcommands.map { "  " + $0.synopsis.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
        return """
            OVERVIEW: The ActorChat client: chat in a room, or script the server.

            USAGE: actor-chat-cli <subcommand> [<options>]

            SUBCOMMANDS:
            \(lines.joined(separator: "\n"))

              See 'actor-chat-cli <subcommand> --help' for a subcommand's options.
            """
    }

    /// Runs the tool; returns the exit code (64 for a command line that cannot be run).
    package static func main(
        _ arguments: [String], environment: [String: String], console: Console, subcommands: [Subcommand] = subcommands
    ) async -> Int32 {
        let usage = usage(subcommands)
        guard let name = arguments.first, name != "--help", name != "-h" else {
            (arguments.isEmpty ? console.err : console.out)(usage)
            return arguments.isEmpty ? 64 : 0
        }
        guard let subcommand = subcommands.first(where: { $0.name == name }) else {
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
                password: parsed.flag("password-stdin") ? readLine(strippingNewline: true) : environment["ACTOR_CHAT_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 },
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
            if context.json {
                // Scripts that asked for JSON get the failure as JSON too.
                let (code, message) = if case ClientError.server(let code, let message) = error { (code, message) } else { ("client", "\(error)") }
                console.err(Envelope(event: "error", params: ["code": .string(code), "message": .string(message)]).description)
            } else {
                console.err("error: \(error)")
            }
            return 1
        }
    }
}
