import ActorChatClient
import ActorChatCore
import Foundation
import Glibc

/// The soak's crash: kills a running server with SIGKILL and starts it again from the same
/// executable, with the same arguments and working directory (so the same data directory), on the
/// port it was listening on. The restarted server is this process's child and is stopped by `stop()`.
final class ServerRestarter {
    private var process: Process?

    /// Kills `pid`, waits for it to end, starts its replacement listening on `port`, and returns once
    /// the replacement says it is listening: its pid and how long the server was away.
    func restart(pid: Int32, port: Int) async throws -> (pid: Int32, downSeconds: Double) {
        let proc = "/proc/\(pid)"
        guard let commandLine = FileManager.default.contents(atPath: "\(proc)/cmdline"),
            let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(proc)/exe"),
            let directory = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(proc)/cwd")
        else { throw LoadTestError.restartFailed("cannot read the command line of server pid \(pid)") }
        let arguments = Self.arguments(commandLine.split(separator: 0, omittingEmptySubsequences: false).dropFirst().map {
            String(decoding: $0, as: UTF8.self)
        }, port: port)
        let killed = ContinuousClock.now
        guard kill(pid, SIGKILL) == 0, ProcessExit.wait(pid: pid, milliseconds: 10_000) else {
            throw LoadTestError.restartFailed("server pid \(pid) did not end after SIGKILL")
        }
        let replacement = Process()
        replacement.executableURL = URL(fileURLWithPath: executable)
        replacement.arguments = arguments
        replacement.currentDirectoryURL = URL(fileURLWithPath: directory)
        replacement.standardInput = FileHandle.nullDevice
        let output = Pipe()
        replacement.standardOutput = output
        try replacement.run()
        process = replacement
        // The server's output is read to its end, so its logging never blocks on a full pipe; what
        // it printed up to "listening on" (or up to its exit) is handed over once.
        let (started, startup) = AsyncStream.makeStream(of: String.self)
        let chunks = PipeReader.chunks(of: output.fileHandleForReading)
        Task {
            var seen = ""
            for await chunk in chunks where !seen.contains("listening on") {
                seen += String(decoding: chunk, as: UTF8.self)
                if seen.contains("listening on") { startup.yield(seen) }
            }
            startup.yield(seen)
            startup.finish()
        }
        let printed = try await withDeadline(.seconds(30), waitingFor: "the restarted server to listen") {
            for await text in started { return text }
            return ""
        }
        guard printed.contains("listening on") else {
            throw LoadTestError.restartFailed("the restarted server exited: \(printed.suffix(400))")
        }
        return (replacement.processIdentifier, (ContinuousClock.now - killed).seconds)
    }

    /// Stops the restarted server, if there is one, as an operator would: SIGTERM, then wait.
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// The server's arguments with its port set to `port` (a server started with `--port 0` got
    /// one from the kernel, and its clients reconnect to that one).
    static func arguments(_ arguments: [String], port: Int) -> [String] {
        var result = arguments.last == "" ? Array(arguments.dropLast()) : arguments
        if let flag = result.firstIndex(of: "--port"), flag + 1 < result.count {
            result[flag + 1] = String(port)
        } else if let flag = result.firstIndex(where: { $0.hasPrefix("--port=") }) {
            result[flag] = "--port=\(port)"
        } else {
            result += ["--port", String(port)]
        }
        return result
    }
}
