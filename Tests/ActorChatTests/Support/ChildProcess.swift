import Foundation
import Synchronization
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// One of the package's executables run as a child process, its output readable as it arrives.
final class ChildProcess: Sendable {
    private let process: Process
    private let output = Output()
    private let changes: AsyncStream<Void>
    private let exit: Task<Int32, Never>

    /// The directory the test bundle was built into, where the executables sit too.
    static let buildDirectory: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    init(_ executable: String, _ arguments: [String], absolute: Bool = false, stdin: FileHandle? = nil, environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = absolute ? URL(fileURLWithPath: executable) : Self.buildDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (changes, notify) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.changes = changes
        let (stdoutPipe, stderrPipe) = (Pipe(), Pipe())
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = stdin ?? FileHandle.nullDevice
        let output = self.output
        // Blocking reads on threads of their own: see PipeReader for why not readabilityHandler.
        for (pipe, isStdout) in [(stdoutPipe, true), (stderrPipe, false)] {
            let chunks = PipeReader.chunks(of: pipe.fileHandleForReading)
            Task {
                for await data in chunks {
                    output.text.withLock {
                        if isStdout { $0.stdout += String(decoding: data, as: UTF8.self) } else { $0.stderr += String(decoding: data, as: UTF8.self) }
                    }
                    notify.yield()
                }
            }
        }
        let (exited, exitContinuation) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            exitContinuation.yield(process.terminationStatus)
            exitContinuation.finish()
            notify.yield()
        }
        exit = Task { await exited.first { _ in true } ?? -1 }
        try process.run()
    }

    var stdout: String { output.text.withLock { $0.stdout } }
    var stderr: String { output.text.withLock { $0.stderr } }

    private final class Output: Sendable {
        let text = Mutex<(stdout: String, stderr: String)>(("", ""))
    }
    var pid: Int32 { process.processIdentifier }

    /// Waits until stdout (or stderr) contains `text` and returns that stream's text so far.
    func waitForOutput(containing text: String, inStderr: Bool = false, timeout: Duration = .seconds(20)) async throws -> String {
        try await withDeadline(timeout, waitingFor: "'\(text)' from \(process.executableURL!.lastPathComponent)") { [self] in
            for await _ in changes {
                let current = inStderr ? stderr : stdout
                if current.contains(text) { return current }
            }
            let current = inStderr ? stderr : stdout
            if current.contains(text) { return current }
            throw ClientError.closed
        }
    }

    /// The exit status, once the process has exited.
    func exitStatus(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let exit = exit
        return try await withDeadline(timeout, waitingFor: "the process to exit") { await exit.value }
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
