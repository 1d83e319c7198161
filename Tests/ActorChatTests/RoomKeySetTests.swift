import Testing
@testable import ActorChat

/// A user's rooms: a set, whether it holds them inline (none or one) or in a `Set`.
@Suite struct RoomKeySetTests {
    @Test func aUserInOneRoomHoldsItInline() {
        var keys = RoomKeySet()
        keys.insert("lobby")
        #expect(keys.count == 1 && keys.contains("lobby") && !keys.contains("other"))
        keys.insert("lobby")
        #expect(keys.count == 1)
        keys.insert("other")
        keys.insert("third")
        #expect(keys.count == 3 && Set(keys) == ["lobby", "other", "third"])
        keys.remove("lobby")
        keys.remove("third")
        #expect(Array(keys) == ["other"])
        keys.remove("other")
        #expect(keys.count == 0 && Array(keys).isEmpty)
        #expect(MemoryLayout<RoomKeySet>.size <= 17)
    }
}
