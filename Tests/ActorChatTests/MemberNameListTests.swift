import Testing
@testable import ActorChat
@testable import ActorChatProtocol

/// A room's encoded member list must stay the JSON array of its members' names, in join order,
/// through every join and leave: `joined` and `members` send its bytes as they are.
@Suite struct MemberNameListTests {
    private func decoded(_ list: MemberNameList) throws -> [String] {
        try JSONParser.parse(list.encoded.bytes).array?.compactMap(\.string) ?? []
    }

    @Test func staysTheJSONArrayOfTheNamesThroughJoinsAndLeaves() throws {
        var list = MemberNameList()
        var model: [String] = []
        #expect(try decoded(list) == [])
        // Removal at the front, the middle, the end and the only one, against a plain array.
        let steps: [(add: String?, remove: Int?)] = [
            ("ann", nil), (nil, 0), ("ann", nil), ("Ben_2", nil), ("c.d-e", nil), ("f", nil),
            (nil, 1), (nil, 0), (nil, 1), ("gus", nil), ("h", nil), (nil, 2), (nil, 0), (nil, 0),
        ]
        for step in steps {
            if let name = step.add {
                list.append(name)
                model.append(name)
            }
            if let index = step.remove {
                list.remove(at: index)
                model.remove(at: index)
            }
            #expect(try decoded(list) == model)
            #expect(list.nameRanges().map(list.name(in:)) == model)
        }
        #expect(model.isEmpty && String(decoding: list.encoded.bytes, as: UTF8.self) == "[]")
    }
}
