import Foundation
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// The real `actor-chat-server` binary: flags, the printed address, signals and exit codes.
@Suite struct ServerExecutableTests {
    @Test(arguments: [["--bogus"], ["--port", "70000"], ["--port"], ["--log-level", "loud"], ["--room", "bad name"], ["--room", "x:0"], ["extra"]])
    func badFlagsPrintOneErrorLineAndUsageThenExit64(_ arguments: [String]) async throws {
        let server = try ChildProcess("actor-chat-server", arguments)
        #expect(try await server.exitStatus() == 64)
        let lines = server.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("error: ") == true)
        #expect(server.stderr.contains("USAGE: actor-chat-server"))
    }

    @Test func helpPrintsUsageAndExitsZero() async throws {
        let server = try ChildProcess("actor-chat-server", ["--help"])
        #expect(try await server.exitStatus() == 0)
        for flag in ["--host", "--port", "--room", "--admin-token", "--max-line-bytes", "--log-level", "--help"] {
            #expect(server.stdout.contains(flag), "\(flag)")
        }
    }

    @Test func sigtermTellsClientsAndExitsZero() async throws {
        let server = try ChildProcess(
            "actor-chat-server", ["--host", "127.0.0.1", "--port", "0", "--memory", "--room", "dev:5", "--room", "lobby"],
            environment: ["ACTOR_CHAT_ADMIN_TOKEN": "env-token"])
        let banner = try await server.waitForOutput(containing: "listening on")
        let port = try #require(banner.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        let client = try await ChatClient.connect(host: "127.0.0.1", port: port)
        let welcome = try await client.login("root", token: "env-token")
        #expect(welcome["user"]?.object?["admin"] == .bool(true))
        let rooms = welcome["rooms"]?.array?.compactMap { $0.object } ?? []
        #expect(rooms.map { $0["name"] } == ["dev", "lobby"])
        #expect(rooms.map { $0["limit"]?.integer } == [5, 1000])
        server.signal(SIGTERM)
        #expect(try await client.next("server_shutdown").event == "server_shutdown")
        #expect(try await server.exitStatus() == 0)
        #expect(server.stderr.contains("login root (admin)"))
    }

    @Test func sigintAlsoShutsDownCleanly() async throws {
        let server = try ChildProcess("actor-chat-server", ["--host", "127.0.0.1", "--port", "0", "--memory", "--log-level", "warn"])
        _ = try await server.waitForOutput(containing: "listening on")
        server.signal(SIGINT)
        #expect(try await server.exitStatus() == 0)
        #expect(!server.stderr.contains("info"))
    }
}
