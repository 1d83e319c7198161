import Dispatch
import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore

/// Start and shutdown racing each other: whichever order they come in, a shutdown is never lost.
@Suite struct ServerLifecycleTests {
    private func makeServer() -> ChatServer {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.dataDirectory = nil
        return ChatServer(configuration: configuration, log: ServerLog(level: .error, echo: false))
    }

    @Test func aShutdownWhileTheRoomsAreCreatedEndsTheStart() async throws {
        let server = makeServer()
        let executor = server.services.executor
        // Hold the sessions' thread, where the rooms are created, so that start waits there.
        let release = DispatchSemaphore(value: 0)
        let (held, holding) = AsyncStream.makeStream(of: Void.self)
        Task(executorPreference: executor) {
            holding.yield()
            release.wait()
        }
        for await _ in held { break }
        let starting = Task { try await server.start() }
        try await withDeadline(.seconds(10), waitingFor: "start to wait for the rooms") {
            while executor.queuedJobs == 0 {
                try Task.checkCancellation()
                await Task.yield()
            }
        }
        await server.shutdown()
        release.signal()
        guard case .failure(let error) = await starting.result else {
            Issue.record("start went on serving after the shutdown had returned")
            return
        }
        #expect(error as? ServerError == .shutDown)
        // Nothing serves: run returns at once, and a second start is refused.
        await server.run()
        await #expect(throws: ServerError.self) { try await server.start() }
    }

    @Test func aShutdownBeforeStartIsNotUndone() async throws {
        let server = makeServer()
        await server.shutdown()
        await #expect(throws: ServerError.self) { try await server.start() }
        await server.run()
    }

    @Test func aShutdownAfterStartStopsServing() async throws {
        let server = makeServer()
        let port = try await server.start()[0].port
        let running = Task { await server.run() }
        let client = try await ChatClient.connect(host: "127.0.0.1", port: port)
        await server.shutdown()
        await running.value
        await #expect(throws: ClientError.self) { try await client.next("never", timeout: .seconds(10)) }
    }
}
