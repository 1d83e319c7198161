import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// Random sessions of several clients against a real server, checked against `ProtocolModel` after
/// every step: each connection must receive exactly the frames the protocol says, in order, and
/// nothing else. A failure names its seed and the steps before it, so it replays.
@Suite struct ProtocolModelTests {
    @Test(arguments: Array(1...12) as [UInt64])
    func randomSessionsGetExactlyWhatTheProtocolSays(seed: UInt64) async throws {
        var run = try await ModelRun(seed: seed)
        try await run.perform(steps: 300)
        try await run.finish()
    }

    /// The same with a store, where sends, creates and closes are answered after their commit.
    @Test(arguments: Array(101...106) as [UInt64])
    func withAStoreTooSessionsGetExactlyWhatTheProtocolSays(seed: UInt64) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var run = try await ModelRun(seed: seed, dataDirectory: directory.path)
        try await run.perform(steps: 300)
        try await run.finish()
    }
}

/// One server, one model, and the clients a `RandomRequests` sequence opens.
struct ModelRun {
    let server: TestServer
    let seed: UInt64
    private var model: ProtocolModel
    private var requests: RandomRequests
    private var clients: [Int: ChatClient] = [:]
    private var trace: [String] = []

    init(seed: UInt64, dataDirectory: String? = nil) async throws {
        var limits = ProtocolModel.Limits()
        limits.stored = dataDirectory != nil
        let lobby = (name: "lobby", limit: 4)
        server = try await TestServer.start { configuration in
            configuration.dataDirectory = dataDirectory
            configuration.unlimitedRate()
            configuration.initialRooms = [(lobby.name, lobby.limit)]
            configuration.rooms.maxRoomLimit = limits.maxRoomLimit
            configuration.rooms.maxRooms = limits.maxRooms
            configuration.rooms.maxRoomsPerUser = limits.maxRoomsPerUser
            configuration.rooms.replayLimit = limits.replayLimit
            configuration.maxTextBytes = limits.maxTextBytes
            configuration.maxLineBytes = limits.maxLineBytes
            configuration.loginLineBytes = limits.maxLineBytes
            // Guests here live long and answer every step's barrier ping.
            configuration.loginMaxLines = 1_000_000
            configuration.loginTimeoutSeconds = 3600
            // Lockouts and the registration rate are timed: tested on their own, out of reach here.
            configuration.accounts.failuresPerName = 1_000_000
            configuration.accounts.failuresPerAddress = 1_000_000
            configuration.accounts.registerBurst = 1_000_000
            configuration.accounts.adminKeys = limits.adminAccounts
        }
        self.seed = seed
        model = ProtocolModel(limits: limits, initialRooms: [lobby])
        requests = RandomRequests(seed: seed)
    }

    mutating func perform(steps: Int) async throws {
        for step in 1...steps {
            let action = requests.next(for: model)
            trace.append("\(step): \(action)")
            try await perform(action, step: step)
        }
    }

    private mutating func perform(_ action: ModelAction, step: Int) async throws {
        let connection = action.connection
        let outcome: ProtocolModel.Outcome
        switch action {
        case .connect:
            clients[connection] = try await server.client()
            model.connect(connection)
            return
        case .request(_, let event, let params, let id):
            clients[connection]!.send(event, params, id: id)
            outcome = model.handle(event, params, id: id, from: connection)
        case .raw(_, let line, let code, let id):
            clients[connection]!.sendRaw(Array((line + "\n").utf8))
            outcome = model.undecodable(from: connection, code: code, id: id)
        case .oversized:
            clients[connection]!.sendRaw(Array(repeating: UInt8(ascii: "x"), count: model.limits.maxLineBytes + 1) + [0x0A])
            outcome = model.oversizedLine(from: connection)
        case .drop:
            clients.removeValue(forKey: connection)!.close()
            outcome = model.disconnect(connection, reason: "disconnected")
        }

        var received: [Int: [ServerFrame]] = [:]
        // The requester first: once its last reply is in, everything its request caused is queued.
        if let client = clients[connection] {
            if outcome.closed.contains(connection) {
                received[connection] = try await framesUntilClosed(client)
                clients[connection] = nil
            } else {
                received[connection] = try await frames(from: client, through: step)
            }
        }
        // A connection the request ends (an account's login replaces its holder) hears its last frames.
        for other in outcome.closed.sorted() where other != connection {
            guard let client = clients.removeValue(forKey: other) else { continue }
            received[other] = try await framesUntilClosed(client)
        }
        // The server notices a connection ending in its own time: first wait for what the others hear of it.
        if case .drop = action { try await awaitNotices(of: outcome, except: connection, into: &received) }
        if case .oversized = action { try await awaitNotices(of: outcome, except: connection, into: &received) }
        for (other, client) in clients where other != connection {
            received[other, default: []] += try await frames(from: client, through: step)
        }

        for other in Set(outcome.frames.keys).union(received.keys).sorted() {
            var expected = (outcome.frames[other] ?? []).map(canonical)
            var actual = (received[other] ?? []).map(canonical)
            if outcome.unordered {
                expected.sort()
                actual.sort()
            }
            try #require(
                actual == expected,
                "seed \(seed), step \(step): connection #\(other) got what the protocol does not say\n\(trace.suffix(15).joined(separator: "\n"))")
        }
        if let token = received[connection]?.first(where: { $0.event == "welcome" })?["session"]?.string {
            model.learnSession(token, on: connection)
        }
    }

    /// A newcomer sees the rooms as the model has them, then the server stops.
    mutating func finish() async throws {
        let newcomer = try await server.client("newcomer")
        let rooms = try await newcomer.request("rooms")
        #expect(canonical(ServerFrame(event: "rooms", params: ["rooms": rooms["rooms"] ?? .null])) == canonical(ServerFrame(event: "rooms", params: ["rooms": model.roomList(for: nil)])))
        await server.stop()
    }

    /// Frames up to a barrier: a ping with an id of its own, answered after everything queued before it.
    private func frames(from client: ChatClient, through step: Int) async throws -> [ServerFrame] {
        let barrier = JSONValue.string("barrier-\(step)")
        client.send("ping", id: barrier)
        var frames: [ServerFrame] = []
        while true {
            let frame = try await client.next()
            if frame.event == "pong" && frame.id == barrier { return frames }
            frames.append(frame)
        }
    }

    private func framesUntilClosed(_ client: ChatClient) async throws -> [ServerFrame] {
        var frames: [ServerFrame] = []
        while true {
            do {
                frames.append(try await client.next())
            } catch ClientError.closed {
                return frames
            }
        }
    }

    private func awaitNotices(of outcome: ProtocolModel.Outcome, except connection: Int, into received: inout [Int: [ServerFrame]]) async throws {
        for (other, frames) in outcome.frames where other != connection {
            for _ in frames { received[other, default: []].append(try await clients[other]!.next()) }
        }
    }
}
