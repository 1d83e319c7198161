import Foundation
import CSystem
import Glibc
import Synchronization
@testable import ActorChatBench
@testable import ActorChatClient

/// A program in a tmux pane of a fixed size: an independent terminal emulator, so the client's
/// screen handling is checked against what a real terminal shows. Keys go in with `send-keys`,
/// the screen comes back with `capture-pane`, and a control-mode client's `%output` lines say
/// when the screen may have changed, so waiting for a screen never sleeps.
final class TmuxPane: Sendable {
    static let executable = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var available: Bool { executable != nil }

    private let socket = "actorchat-test-\(UInt32.random(in: 0...UInt32.max))"
    private let control: Spawned
    private let changes: AsyncStream<Void>
    private let closed = Mutex(false)

    init(columns: Int, rows: Int, command: [String]) throws {
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
        // The command that starts the tmux server prints nothing; its output is not a pipe, which
        // the server (which lives on) would hold open.
        try Self.run(
            ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "test", "-x", String(columns), "-y", String(rows), "-e", "NO_COLOR=1", quoted], capture: false)
        try Self.run(["-L", socket, "set-option", "-g", "window-size", "manual"])
        // Control mode ends at an empty line or the end of its input: the input pipe stays open,
        // and silent, until `close`.
        control = try Self.spawn(["-L", socket, "-C", "attach", "-t", "test"], input: .pipe, output: .pipe)
        let (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.changes = changes
        let chunks = PipeReader.chunks(of: FileHandle(fileDescriptor: control.output, closeOnDealloc: true))
        Task {
            for await chunk in chunks where String(decoding: chunk, as: UTF8.self).contains("%output") { changed.yield() }
            changed.finish()
        }
    }

    /// Types `text` as keys, literally.
    func type(_ text: String) throws {
        _ = try Self.run(["-L", socket, "send-keys", "-t", "test", "-l", text])
    }

    /// Presses a named key: `Enter`, `C-l`, …
    func press(_ key: String) throws {
        _ = try Self.run(["-L", socket, "send-keys", "-t", "test", key])
    }

    /// The screen, one string per row, without trailing blanks.
    func screen() throws -> [String] {
        try Self.run(["-L", socket, "capture-pane", "-p", "-t", "test"]).components(separatedBy: "\n").dropLast().map {
            var row = $0
            while row.last == " " { row.removeLast() }
            return row
        }
    }

    /// Returns the screen once `condition` holds for it, checking again whenever the pane prints.
    @discardableResult
    func waitForScreen(_ what: String, timeout: Duration = .seconds(10), until condition: @escaping @Sendable ([String]) -> Bool) async throws -> [String] {
        let changes = changes
        do {
            return try await withDeadline(timeout, waitingFor: what) { [self] in
                var rows = try screen()
                guard !condition(rows) else { return rows }
                for await _ in changes {
                    rows = try screen()
                    if condition(rows) { return rows }
                }
                throw ClientError.closed
            }
        } catch {
            throw TmuxError.screen(what: what, error: "\(error)", rows: (try? screen()) ?? [])
        }
    }

    /// Ends the tmux server, and with it the pane's program and the control client, and reaps the
    /// client. Again is nothing.
    func close() {
        guard !closed.withLock({ closed in defer { closed = true }; return closed }) else { return }
        _ = try? Self.run(["-L", socket, "kill-server"])
        Glibc.close(control.input)
        _ = control.wait()
    }

    /// A spawned tmux: its pid and our ends of its pipes (-1 where it has none).
    private struct Spawned {
        let pid: pid_t
        let input: Int32
        let output: Int32

        /// Waits for the process to end and returns its wait status.
        func wait() -> Int32 {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            return status
        }
    }

    private enum Stream { case null, pipe }

    /// Starts tmux with `arguments`, its stdin and its stdout plus stderr each either /dev/null or a
    /// pipe. Spawned directly, with every descriptor above stderr closed in the child: the command
    /// that starts the tmux server forks it, and a server holding our descriptors (Foundation's
    /// exit-watch socket, other tests' pipes) would keep them open for its whole life.
    private static func spawn(_ arguments: [String], input: Stream, output: Stream) throws -> Spawned {
        let path = executable ?? "/usr/bin/tmux"
        var inputPipe: [Int32] = [-1, -1], outputPipe: [Int32] = [-1, -1]
        guard input == .null || Glibc.pipe(&inputPipe) == 0, output == .null || Glibc.pipe(&outputPipe) == 0 else {
            throw TmuxError.failed(arguments, -1)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input == .pipe {
            posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        for target: Int32 in [1, 2] {
            if output == .pipe {
                posix_spawn_file_actions_adddup2(&actions, outputPipe[1], target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        csystem_spawn_close_from(&actions, 3)
        // A clean signal state: this process blocks SIGTERM (the server in it takes signals through
        // a signalfd), and a tmux server that inherited the mask would never act on its own
        // kill-server, which works by sending itself SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        for end in [inputPipe[0], outputPipe[1]] where end >= 0 { Glibc.close(end) }
        guard spawned == 0 else {
            for end in [inputPipe[1], outputPipe[0]] where end >= 0 { Glibc.close(end) }
            throw TmuxError.failed(arguments, spawned)
        }
        return Spawned(pid: pid, input: inputPipe[1], output: outputPipe[0])
    }

    /// Runs a tmux command to its end and returns what it printed (nothing unless `capture`).
    @discardableResult
    private static func run(_ arguments: [String], capture: Bool = true) throws -> String {
        let process = try spawn(arguments, input: .null, output: capture ? .pipe : .null)
        var output: [UInt8] = []
        if capture {
            defer { Glibc.close(process.output) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(process.output, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                output += buffer[..<count]
            }
        }
        let status = process.wait()
        // WIFEXITED and WEXITSTATUS, which Swift does not import: the low 7 bits are the signal, the next 8 the code.
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else { throw TmuxError.failed(arguments, status) }
        return String(decoding: output, as: UTF8.self)
    }
}

enum TmuxError: Error, CustomStringConvertible {
    case failed([String], Int32)
    case screen(what: String, error: String, rows: [String])

    var description: String {
        switch self {
        case .failed(let arguments, let status): "tmux \(arguments.joined(separator: " ")) exited \(status)"
        case .screen(let what, let error, let rows): "\(error) (\(what)); the screen:\n" + rows.map { "|\($0)" }.joined(separator: "\n")
        }
    }
}
