import ActorChatBench
import ActorChatClient
import ActorChatCore
import Foundation

SignalSource.ignoreBrokenPipes()
let environment = ProcessInfo.processInfo.environment
let terminal = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
let console = ChatCommandLine.Console(
    out: { FileHandle.standardOutput.write(Data(($0.hasSuffix(": ") ? $0 : $0 + "\n").utf8)) },
    err: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
    interactive: terminal,
    color: isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil)
exit(await ChatCommandLine.main(
    Array(CommandLine.arguments.dropFirst()), environment: environment, console: console,
    subcommands: ChatCommandLine.subcommands + BenchCommandLine.subcommands))
