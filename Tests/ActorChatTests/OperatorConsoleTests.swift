import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

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
