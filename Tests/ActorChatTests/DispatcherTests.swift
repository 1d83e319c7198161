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

    /// Routes `request` as a session does, and runs its synchronous handler.
    private func runNow(_ dispatcher: Dispatcher, _ request: ClientRequest, context: inout SessionContext) throws(ChatError) {
        guard case .now(let handler) = try dispatcher.route(for: request, context: context).action else {
            Issue.record("'\(request.event)' is not synchronous")
            return
        }
        try handler(request, &context)
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
        #expect(throws: ChatError.notLoggedIn) { try runNow(dispatcher, ClientRequest(event: "private"), context: &context) }
        #expect(throws: ChatError.unknownEvent("nonsense")) { try runNow(dispatcher, ClientRequest(event: "nonsense"), context: &context) }
        #expect(throws: ChatError.unknownEvent("OPEN", suggestion: "open")) {
            try runNow(dispatcher, ClientRequest(event: "OPEN"), context: &context)
        }
        try runNow(dispatcher, ClientRequest(event: "open", params: ["name": "ann"]), context: &context)
        #expect(context.user?.name == "ann")
        try runNow(dispatcher, ClientRequest(event: "private"), context: &context)
        #expect(context.closing == .logout)
        #expect(dispatcher.events == ["open", "private"])
        await loop.stop()
    }

    @Test func anUnknownEventNamesTheClosestOne() {
        let chat = Dispatcher.chat()
        #expect(chat.closestEvent(to: "sned") == "send")
        #expect(chat.closestEvent(to: "LOGIN") == "login")
        #expect(chat.closestEvent(to: "create") == nil)
        #expect(ChatError.unknownEvent("sned", suggestion: "send").message == "unknown event 'sned'; did you mean 'send'?")
        #expect(ChatError.badFrame("x").message.contains(#"{"event":"login","params":{"name":"alice"}}"#))
    }

    @Test func helpListsExactlyTheRegistrations() async throws {
        let server = try await TestServer.start()
        let guest = try await server.client()
        let help = try await guest.request("help")
        let listed = (help["events"]?.array ?? []).compactMap(\.object).map { event in
            EventDescription(
                event: event["event"]?.string ?? "", params: (event["params"]?.array ?? []).compactMap(\.string),
                access: event["access"]?.string ?? "")
        }
        #expect(listed == Dispatcher.chat().descriptions)
        #expect(listed.first { $0.event == "join" } == EventDescription(event: "join", params: ["room", "history?", "since?"], access: "logged_in"))
        #expect(listed.first { $0.event == "stats" }?.access == "admin")
        await server.stop()
    }

    @Test func theChatDispatcherHandlesEveryDocumentedEvent() {
        #expect(Dispatcher.chat().events == [
            "ban", "close_room", "create_room", "deop", "dm", "help", "history", "invite", "join", "kick", "leave", "login", "logout", "logs", "op",
            "password", "ping", "register", "rooms", "send", "set_room", "stats", "unban", "uninvite", "who",
        ])
    }
}

extension DispatcherTests {
    /// The requests that await run in a task of its own, so an idle session does not keep their
    /// memory; the frequent ones, above all `send`, run synchronously and pay nothing for it. A
    /// guest's `login` and a `history` page from memory are done at once too: only an account's
    /// login and a read from disk take a task.
    @Test func theRequestsThatAwaitRunInTheirOwnTask() async throws {
        let dispatcher = Dispatcher.chat()
        var (context, _, loop) = try await context()
        context.user = UserInfo(id: 1, name: "ann", admin: true)
        func action(_ event: String) throws -> Dispatcher.Action {
            try dispatcher.route(for: ClientRequest(event: event), context: context).action
        }
        for event in ["register", "password", "logout", "create_room", "close_room", "set_room", "op", "ban", "invite", "stats"] {
            guard case .ownTask = try action(event) else { Issue.record("\(event) does not run in its own task"); continue }
        }
        for event in ["send", "join", "leave", "ping", "dm", "who", "rooms", "kick", "help", "logs"] {
            guard case .now = try action(event) else { Issue.record("\(event) is not synchronous"); continue }
        }
        for event in ["login", "history"] {
            guard case .nowOrLater = try action(event) else { Issue.record("\(event) is not done at once when it can be"); continue }
        }
        await loop.stop()
    }
}
