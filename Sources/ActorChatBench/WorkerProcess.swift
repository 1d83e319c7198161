import ActorChatClient
import ActorChatCore
import ActorChatProtocol
import Foundation

/// An `actor-chat-cli bench` worker in a child process, driven by lines on its stdin and answering
/// with JSON lines on its stdout. Used from one task: commands go to every worker first, then the
/// answers are collected, so the workers run at the same time.
final class WorkerProcess {
    private let process: Process
    private let input: FileHandle
    private var lines: AsyncStream<String>.AsyncIterator
    private var quitting = false

    init(executable: URL, arguments: [String]) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        input = stdin.fileHandleForWriting
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let chunks = PipeReader.chunks(of: stdout.fileHandleForReading)
        Task {
            var buffer: [UInt8] = []
            for await data in chunks {
                buffer.append(contentsOf: data)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    continuation.yield(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
            }
            continuation.finish()
        }
        lines = stream.makeAsyncIterator()
        try process.run()
    }

    func send(_ command: String) {
        input.write(Data((command + "\n").utf8))
    }

    /// The next JSON object the worker prints; lines that are not JSON objects are skipped.
    func nextObject() async throws -> JSONObject {
        while true {
            guard let line = await lines.next() else { throw LoadTestError.workerExited }
            if case .object(let object)? = try? JSONParser.parse(Array(line.utf8)) { return object }
        }
    }

    /// Tells the worker to quit, without waiting: its clients' sockets close when it exits.
    func quit() {
        guard process.isRunning, !quitting else { return }
        quitting = true
        send("quit")
        try? input.close()
    }

    func finish() {
        quit()
        process.waitUntilExit()
    }
}

package enum LoadTestError: Error, CustomStringConvertible {
    case workerExited
    case noServer(String)
    case promiseBroken
    case restartFailed(String)

    package var description: String {
        switch self {
        case .workerExited: "a load-test worker exited early (see its error output above)"
        case .noServer(let reason): reason
        case .promiseBroken: "the delivery promise was broken (see the soak line above)"
        case .restartFailed(let reason): "the soak could not restart the server: \(reason)"
        }
    }
}
