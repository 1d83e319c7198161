import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

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
