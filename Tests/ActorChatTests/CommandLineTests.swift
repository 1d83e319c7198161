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

    /// A number outside its range is refused with a message that names the flag and the range.
    @Test func numbersAreCheckedAgainstTheirRange() throws {
        let loadtest = try #require(BenchCommandLine.subcommands.first { $0.name == "loadtest" })
        #expect(try loadtest.arguments.parse(["--step-factor", "1.1"]).number("step-factor", in: 1.01...4) == 1.1)
        do {
            _ = try loadtest.arguments.parse(["--step-factor", "0.9"]).number("step-factor", in: 1.01...4)
            Issue.record("--step-factor 0.9 was accepted")
        } catch {
            #expect(error.message == "--step-factor takes a number from 1.01 to 4.0, not '0.9'")
        }
        #expect(try ServerCommandLine.configuration(from: ServerCommandLine.arguments.parse(["--rate-limit", "2.5"]), environment: [:]).ratePerSecond == 2.5)
    }

    @Test(arguments: [["--port", "x"], ["--nope"], ["-x"], ["--port", "1", "--port", "2"], ["--help=yes"], ["loose"]])
    func refusesBadCommandLines(_ arguments: [String]) {
        #expect(throws: UsageError.self) {
            let parsed = try ServerCommandLine.arguments.parse(arguments)
            _ = try ServerCommandLine.configuration(from: parsed, environment: [:])
        }
    }
}
