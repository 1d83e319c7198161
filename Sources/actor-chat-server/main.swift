import ActorChat
import ActorChatCore
import ActorChatStore
import Foundation

SignalSource.ignoreBrokenPipes()

/// Writes straight to stdout: print would sit in a buffer when stdout is a pipe.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

let spec = ServerCommandLine.arguments
let configuration: ServerConfiguration
do {
    let parsed = try spec.parse(CommandLine.arguments.dropFirst())
    if parsed.flag("help") {
        say(spec.usage)
        exit(0)
    }
    configuration = try ServerCommandLine.configuration(from: parsed, environment: ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n\n\(spec.usage)".utf8))
    exit(64)
}

// Taken before anything can be signalled: a SIGTERM that comes while the server starts, or right
// after it says it listens, waits in the stream instead of being lost.
let terminations = SignalSource.termination()
let server = ChatServer(configuration: configuration)
do {
    let addresses = try await server.start()
    if let directory = configuration.dataDirectory {
        say("actor-chat-server: history kept in \(directory) (sync \(configuration.sync.rawValue))")
    } else {
        say("actor-chat-server: --memory: no store; history is gone at restart")
    }
    say("actor-chat-server listening on \(addresses.map(\.description).joined(separator: ", "))")
} catch {
    FileHandle.standardError.write(Data("error: cannot start the server: \(error)\n".utf8))
    exit(1)
}

Task {
    for await signal in terminations {
        server.services.log.log(.info, "signal \(signal): shutting down")
        await server.shutdown()
    }
}

if isatty(STDIN_FILENO) == 1 {
    let console = OperatorConsole(services: server.services)
    let (lines, input) = AsyncStream.makeStream(of: String.self)
    // readLine blocks, so it gets a thread of its own rather than a cooperative one.
    Thread {
        while let line = readLine() { input.yield(line) }
        input.finish()
    }.start()
    Task {
        say("operator console: /help lists the commands")
        for await line in lines {
            switch await console.execute(line) {
            case .output(let text): if !text.isEmpty { say(text) }
            case .quit: await server.shutdown()
            }
        }
    }
}

await server.run()
exit(0)
