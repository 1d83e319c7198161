import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

@Suite struct RoomDirectoryTests {
    /// The rooms the encoded list names, read back with the protocol's own parser.
    private func decoded(_ list: EncodedJSON) throws -> [RoomInfo] {
        try #require(JSONParser.parse(list.bytes).array).map { room in
            RoomInfo(name: room.object?["name"]?.string ?? "", limit: room.object?["limit"]?.integer ?? -1,
                     count: room.object?["count"]?.integer ?? -1)
        }
    }

    @Test func matchesASortedModelThroughRandomChanges() throws {
        var directory = RoomDirectory()
        var model: [String: RoomInfo] = [:]
        var random = SystemRandomNumberGenerator()
        let names = (0..<40).map { "r\($0 * 7919 % 40)" } + ["Zed", "alpha", "a.b", "A-1", "_x"]
        for step in 0..<2_000 {
            let name = names.randomElement(using: &random)!
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                model[name] = nil
                directory.remove(named: name)
            default:
                let info = RoomInfo(name: name, limit: 50, count: Int.random(in: 0...50, using: &random))
                model[name] = info
                directory.set(info)
            }
            let expected = model.values.sorted { $0.name < $1.name }
            #expect(directory.rooms == expected, "step \(step)")
            var writer = JSONWriter()
            writer.beginArray()
            expected.forEach { writer.write($0) }
            writer.endArray()
            #expect(String(decoding: directory.encodedList.bytes, as: UTF8.self) == String(decoding: writer.bytes, as: UTF8.self), "step \(step)")
        }
        for name in names.shuffled(using: &random) { directory.remove(named: name) }
        #expect(directory.rooms.isEmpty)
        #expect(directory.encodedList.bytes == Array("[]".utf8))
    }

    @Test func keepsTheListAsJSONThroughEachKindOfChange() throws {
        var directory = RoomDirectory()
        #expect(directory.encodedList.bytes == Array("[]".utf8))
        directory.set(RoomInfo(name: "b", limit: 2, count: 0))
        directory.set(RoomInfo(name: "a", limit: 5, count: 1))
        let first = directory.encodedList
        #expect(String(decoding: first.bytes, as: UTF8.self)
            == #"[{"name":"a","limit":5,"count":1},{"name":"b","limit":2,"count":0}]"#)
        directory.set(RoomInfo(name: "b", limit: 2, count: 1))
        #expect(try decoded(directory.encodedList).last == RoomInfo(name: "b", limit: 2, count: 1))
        directory.remove(named: "a")
        directory.remove(named: "missing")
        #expect(try decoded(directory.encodedList) == [RoomInfo(name: "b", limit: 2, count: 1)])
    }
}
