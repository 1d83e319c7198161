import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

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
