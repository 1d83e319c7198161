import Foundation
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// `actor-chat-server` in a child process: its descriptors can be counted and it can be signalled
/// or limited (`ulimit`) without touching the test process.
struct ServerProcess {
    let child: ChildProcess
    let port: Int

    /// Starts the server on 127.0.0.1 and a free port; `ulimit` sets its descriptor limit first.
    /// Without `--data-dir` among `arguments` it keeps no store.
    static func start(_ arguments: [String] = [], ulimit: Int? = nil) async throws -> ServerProcess {
        let store = arguments.contains("--data-dir") ? [] : ["--memory"]
        let base = ["--host", "127.0.0.1", "--port", "0", "--admin-token", "sesame"] + store + arguments
        let child: ChildProcess
        if let ulimit {
            let binary = ChildProcess.buildDirectory.appendingPathComponent("actor-chat-server").path
            child = try ChildProcess("/bin/sh", ["-c", "ulimit -n \(ulimit) && exec \"$0\" \"$@\"", binary] + base, absolute: true)
        } else {
            child = try ChildProcess("actor-chat-server", base)
        }
        let banner = try await child.waitForOutput(containing: "listening on")
        let port = try #require(banner.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        return ServerProcess(child: child, port: port)
    }

    func client(_ name: String? = nil) async throws -> ChatClient {
        let client = try await ChatClient.connect(host: "127.0.0.1", port: port)
        if let name { try await client.login(name) }
        return client
    }

    /// A connection that does only what the test says: it never answers pings by itself.
    func rawConnection(limits: ConnectionLimits = ConnectionLimits()) async throws -> Connection {
        try await EventLoop.shared.connect(to: try SocketAddress.resolve(host: "127.0.0.1", port: port)[0], limits: limits)
    }

    /// Open sockets of the server process. Other descriptors are the runtime's own (Dispatch creates
    /// a timerfd, an epoll and an eventfd on first use), so sockets are what a leak would show in.
    var descriptorCount: Int {
        let directory = "/proc/\(child.pid)/fd"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return -1 }
        return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)"))?.hasPrefix("socket:") == true }.count
    }

    /// Waits until the server's descriptor count is back to `baseline` (connections close asynchronously).
    func expectDescriptors(backTo baseline: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let admin = try await client()
        try await admin.login("fdwatch\(UInt32.random(in: 0...UInt32.max))", token: "sesame")
        // Each stats round trip is a full pass of the server's loop; closes are done within a few.
        for _ in 0..<200 where descriptorCount != baseline + 1 {
            _ = try await admin.request("stats")
            await Task.yield()
        }
        #expect(descriptorCount == baseline + 1, "descriptors: \(descriptorCount), baseline \(baseline) plus this client", sourceLocation: sourceLocation)
        admin.close()
    }

    /// The canary: a fresh pair of users still exchange a message.
    func expectAlive() async throws {
        let suffix = String(UInt32.random(in: 0...UInt32.max))
        let first = try await client("canaryA\(suffix)")
        let second = try await client("canaryB\(suffix)")
        try await first.request("create_room", ["room": .string("c\(suffix)"), "limit": .number("2")])
        try await first.request("join", ["room": .string("c\(suffix)")])
        try await second.request("join", ["room": .string("c\(suffix)")])
        try await first.request("send", ["room": .string("c\(suffix)"), "text": "alive"])
        #expect(try await second.next("message")["text"] == "alive")
        first.close()
        second.close()
    }

    func stop() async throws {
        child.signal(SIGTERM)
        #expect(try await child.exitStatus() == 0)
    }
}

/// Reads whole lines from a raw connection.
struct LineReader {
    let connection: Connection
    private var iterator: AsyncStream<[UInt8]>.AsyncIterator
    private var framer = LineFramer(maxLineBytes: 1 << 20)

    init(_ connection: Connection) {
        self.connection = connection
        iterator = connection.inbound.makeAsyncIterator()
    }

    /// The next frame, or nil once the server has closed the connection.
    mutating func next() async -> Envelope? {
        while true {
            if case .line(let line)? = framer.next() { return try? Envelope.decode(line).get() }
            guard let chunk = await iterator.next() else { return nil }
            framer.append(chunk)
            connection.didConsume(chunk.count)
        }
    }

    /// Every frame until the server closes `connection`, which must happen within `timeout`.
    static func frames(untilClosed connection: Connection, within timeout: Duration = .seconds(20)) async throws -> [Envelope] {
        try await withDeadline(timeout, waitingFor: "the server to close the connection") {
            var reader = LineReader(connection)
            var frames: [Envelope] = []
            while let frame = await reader.next() { frames.append(frame) }
            return frames
        }
    }
}
