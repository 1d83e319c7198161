import CSystem
import Testing
@testable import ActorChat
@testable import ActorChatCore

/// Every connection holds one of each of these for its whole life, idle or not, so each is kept
/// within a malloc size class (issue 23's idle cost). A field added, or a field moved so that it
/// leaves padding, shows here rather than as a few percent in a noisy benchmark. glibc hands out
/// chunks in steps of 16 bytes with 8 of them its own: a 152-byte object takes a 160-byte chunk,
/// a 153-byte one a 176-byte chunk.
@Suite struct ObjectSizeTests {
    /// The bytes malloc gave the object (its chunk less malloc's header).
    private func allocatedBytes(_ object: AnyObject) -> Int {
        malloc_usable_size(Unmanaged.passUnretained(object).toOpaque())
    }

    @Test func perConnectionObjectsStayInTheirMallocClasses() async throws {
        let loop = try EventLoop(name: "test-loop")
        let (connection, peer) = try await loop.connectedPair()
        let services = ServerServices(configuration: ServerConfiguration(), log: ServerLog(level: .error, echo: false))
        let session = Session(connection: connection, services: services, dispatcher: Dispatcher())
        let io = ConnectionIO(connection: connection, phase: .open, countsTowardsAdmission: true)
        #expect(allocatedBytes(connection) <= 168)
        #expect(allocatedBytes(session) <= 152)
        #expect(allocatedBytes(io) <= 120)
        withExtendedLifetime((session, io)) {}
        connection.close(.clientClosed)
        peer.close(.clientClosed)
        await loop.stop()
    }
}
