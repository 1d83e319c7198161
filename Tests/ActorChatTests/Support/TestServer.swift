import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// A real server on 127.0.0.1 and an ephemeral port, in this process, for one test.
struct TestServer {
    let server: ChatServer
    let port: Int
    let log: ServerLog
    private let running: Task<Void, Never>

    static func start(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.adminToken = "sesame"
        configuration.dataDirectory = nil
        configure(&configuration)
        let log = ServerLog(level: .debug, echo: false)
        let server = ChatServer(configuration: configuration, log: log)
        let addresses = try await server.start()
        let running = Task { await server.run() }
        return TestServer(server: server, port: addresses[0].port, log: log, running: running)
    }

    /// A connected client, logged in when `name` is given.
    func client(_ name: String? = nil, admin: Bool = false) async throws -> ChatClient {
        let client = try await ChatClient.connect(host: "127.0.0.1", port: port)
        if let name { try await client.login(name, token: admin ? "sesame" : nil) }
        return client
    }

    /// A connection that registered `name` and logged in as that account.
    func account(_ name: String, password: String = "a long enough password") async throws -> ChatClient {
        let client = try await client()
        try await client.request("register", ["name": .string(name), "password": .string(password)])
        try await client.request("login", ["name": .string(name), "password": .string(password)])
        return client
    }

    /// Logged-in clients that have all joined `room`, with every join notice consumed.
    func members(_ names: [String], in room: String) async throws -> [ChatClient] {
        var clients: [ChatClient] = []
        for name in names {
            let client = try await self.client(name)
            try await client.request("join", ["room": .string(room)])
            for earlier in clients { _ = try await earlier.next("user_joined", with: ["user": .string(name)]) }
            clients.append(client)
        }
        return clients
    }

    func stop() async {
        await server.shutdown()
        await running.value
    }

    /// Ends the test as every test should: the server still serves a fresh pair of users.
    func expectAlive() async throws {
        let suffix = String(UInt32.random(in: 0...UInt32.max))
        let room = "canary\(suffix)"
        let first = try await client("canaryA\(suffix)")
        let second = try await client("canaryB\(suffix)")
        try await first.request("create_room", ["room": .string(room), "limit": .number("2")])
        try await first.request("join", ["room": .string(room)])
        try await second.request("join", ["room": .string(room)])
        try await first.request("send", ["room": .string(room), "text": "still here"])
        let heard = try await second.next("message")
        #expect(heard["text"] == "still here")
        first.close()
        second.close()
    }
}

extension ServerConfiguration {
    /// For tests that send faster than a person types.
    mutating func unlimitedRate() {
        rateBurst = 1_000_000_000
        ratePerSecond = 1e9
    }
}

/// Expects `body` to fail with the server error `code`.
func expectError(_ code: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected error \(code), got success", sourceLocation: sourceLocation)
    } catch ClientError.server(let actual, _) {
        #expect(actual == code, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected error \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
