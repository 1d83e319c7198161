import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

@Suite struct DispatcherTests {
    private func context() async throws -> (SessionContext, Connection, EventLoop) {
        let loop = try EventLoop(name: "test-loop")
        let (server, client) = try await loop.connectedPair()
        let services = ServerServices(configuration: ServerConfiguration(), log: ServerLog(level: .error, echo: false))
        return (SessionContext(connection: server, services: services), client, loop)
    }

    @Test func routesEachEventToItsHandlerAndChecksLogin() async throws {
        var dispatcher = Dispatcher()
        dispatcher.on("open", access: .anyone) { request, context throws(ChatError) in
            context.user = UserInfo(id: 1, name: request.params["name"]?.string ?? "", admin: false)
        }
        dispatcher.on("private") { _, context throws(ChatError) in
            context.closing = .logout
        }
        var (context, _, loop) = try await context()
        await #expect(throws: ChatError.notLoggedIn) { try await dispatcher.dispatch(ClientRequest(event: "private"), context: &context) }
        await #expect(throws: ChatError.unknownEvent("nope")) { try await dispatcher.dispatch(ClientRequest(event: "nope"), context: &context) }
        try await dispatcher.dispatch(ClientRequest(event: "open", params: ["name": "ann"]), context: &context)
        #expect(context.user?.name == "ann")
        try await dispatcher.dispatch(ClientRequest(event: "private"), context: &context)
        #expect(context.closing == .logout)
        #expect(dispatcher.events == ["open", "private"])
        await loop.stop()
    }

    @Test func theChatDispatcherHandlesEveryDocumentedEvent() {
        #expect(Dispatcher.chat().events == [
            "close_room", "create_room", "dm", "join", "kick", "leave", "login", "logout", "logs", "ping", "rooms", "send", "stats", "who",
        ])
    }
}

@Suite struct RoomManagerTests {
    private func connections(_ count: Int, on loop: EventLoop) async throws -> [Connection] {
        var result: [Connection] = []
        for _ in 0..<count { result.append(try await loop.connectedPair().0) }
        return result
    }

    @Test func limitsPerUserAndInTotal() async throws {
        let loop = try EventLoop(name: "test-loop")
        var limits = RoomManager.Limits()
        limits.maxRooms = 3
        limits.maxRoomsPerUser = 2
        limits.maxRoomLimit = 10
        let rooms = RoomManager(limits: limits)
        let connection = try await connections(1, on: loop)[0]
        let user = try await rooms.login(name: "ann", admin: false, connection: connection, replyID: nil)
        for name in ["a", "b", "c"] { try await rooms.createRoom(name: name, limit: 10, by: user.id) }
        await #expect(throws: ChatError.limitExceeded("the server has 3 rooms, its maximum")) {
            try await rooms.createRoom(name: "d", limit: 10, by: user.id)
        }
        try await rooms.join(room: "a", userID: user.id, replyID: nil)
        try await rooms.join(room: "b", userID: user.id, replyID: nil)
        await #expect(throws: ChatError.limitExceeded("you are in 2 rooms, the most one user may be in")) {
            try await rooms.join(room: "c", userID: user.id, replyID: nil)
        }
        try await rooms.leave(room: "a", userID: user.id, replyID: nil)
        try await rooms.join(room: "c", userID: user.id, replyID: nil)
        try await rooms.closeRoom("a", by: user.id)
        try await rooms.createRoom(name: "d", limit: 10, by: user.id)
        await loop.stop()
    }

    @Test func concurrentJoinsNeverExceedTheLimit() async throws {
        let loop = try EventLoop(name: "test-loop")
        let rooms = RoomManager()
        try await rooms.createRoom(name: "hall", limit: 7, by: nil)
        let conns = try await connections(50, on: loop)
        var ids: [Int] = []
        for (index, connection) in conns.enumerated() {
            ids.append(try await rooms.login(name: "u\(index)", admin: false, connection: connection, replyID: nil).id)
        }
        let joined = await withTaskGroup(of: Bool.self) { group in
            for id in ids { group.addTask { (try? await rooms.join(room: "hall", userID: id, replyID: nil)) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(joined == 7)
        #expect(await rooms.roomList() == [RoomInfo(name: "hall", limit: 7, count: 7)])
        await loop.stop()
    }

    @Test func logoutFreesTheNameAndEmptiesRooms() async throws {
        let loop = try EventLoop(name: "test-loop")
        let rooms = RoomManager()
        try await rooms.createRoom(name: "hall", limit: 7, by: nil)
        let conns = try await connections(2, on: loop)
        let ann = try await rooms.login(name: "Ann", admin: false, connection: conns[0], replyID: nil)
        await #expect(throws: ChatError.nameTaken("ann")) { try await rooms.login(name: "ann", admin: false, connection: conns[1], replyID: nil) }
        try await rooms.join(room: "hall", userID: ann.id, replyID: nil)
        await rooms.logout(userID: ann.id, reason: "disconnected")
        #expect(await rooms.roomList().first?.count == 0)
        _ = try await rooms.login(name: "ann", admin: false, connection: conns[1], replyID: nil)
        await #expect(throws: ChatError.notLoggedIn) { try await rooms.join(room: "hall", userID: ann.id, replyID: nil) }
        await loop.stop()
    }

    @Test func onlyAdminsCloseOperatorRooms() async throws {
        let loop = try EventLoop(name: "test-loop")
        let rooms = RoomManager()
        try await rooms.createRoom(name: "lobby", limit: 5, by: nil)
        let conns = try await connections(2, on: loop)
        let ann = try await rooms.login(name: "ann", admin: false, connection: conns[0], replyID: nil)
        let root = try await rooms.login(name: "root", admin: true, connection: conns[1], replyID: nil)
        await #expect(throws: ChatError.self) { try await rooms.closeRoom("lobby", by: ann.id) }
        try await rooms.closeRoom("lobby", by: root.id)
        #expect(await rooms.roomList().isEmpty)
        await loop.stop()
    }
}

@Suite struct OperatorConsoleTests {
    @Test func runsTheOperatorCommands() async throws {
        let server = try await TestServer.start()
        let console = OperatorConsole(services: server.server.services)
        #expect(await console.execute("/rooms") == .output("lobby 0/1000"))
        #expect(await console.execute("/create dev 5") == .output("created dev (limit 5)"))
        let watcher = try await server.client("watcher")
        try await watcher.request("join", ["room": "dev"])
        #expect(await console.execute("/who dev") == .output("dev (1/5): watcher"))
        #expect(await console.execute("/close dev") == .output("closed dev"))
        #expect(try await watcher.next("room_closed")["by"] == "server")
        #expect(await console.execute("/close dev") == .output("error: no room named 'dev'"))
        #expect(await console.execute("/create x y") == .output("usage: /create ROOM LIMIT (LIMIT is a whole number)"))
        guard case .output(let logs) = await console.execute("/logs 5") else { throw ClientError.closed }
        #expect(logs.contains("close dev by operator"))
        #expect(await console.execute("/dance") == .output("unknown command '/dance'; /help lists the commands"))
        #expect(await console.execute("/help") == .output(OperatorConsole.help))
        #expect(await console.execute("/quit") == .quit)
        await server.stop()
    }
}

@Suite struct CommandLineTests {
    @Test func parsesServerFlagsIntoAConfiguration() throws {
        let parsed = try ServerCommandLine.arguments.parse([
            "--host", "::1", "--port=0", "--room", "a:5", "--room", "b", "--max-line-bytes", "1024", "--log-level", "warn",
        ])
        let configuration = try ServerCommandLine.configuration(from: parsed, environment: ["ACTOR_CHAT_ADMIN_TOKEN": "t"])
        #expect(configuration.host == "::1")
        #expect(configuration.port == 0)
        #expect(configuration.initialRooms.map(\.name) == ["a", "b"])
        #expect(configuration.initialRooms.map(\.limit) == [5, nil])
        #expect(configuration.maxLineBytes == 1024)
        #expect(configuration.logLevel == .warn)
        #expect(configuration.adminToken == "t")
    }

    @Test(arguments: [["--port", "x"], ["--nope"], ["-x"], ["--port", "1", "--port", "2"], ["--help=yes"], ["loose"]])
    func refusesBadCommandLines(_ arguments: [String]) {
        #expect(throws: UsageError.self) {
            let parsed = try ServerCommandLine.arguments.parse(arguments)
            _ = try ServerCommandLine.configuration(from: parsed, environment: [:])
        }
    }
}
