import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

@Suite struct JSONTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude00"}} "#)
        let object = try #require(value.object)
        #expect(object["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(object["b"]?.object?["c"] == .string("d\né😀"))
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "\"abc", "\"\\x\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "{\"a\":1} x", "{'a':1}", "\"tab\there\"", "NaN",
    ])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: JSONError.self) { try parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func rejectsDuplicateKeysEvenWhenEscapedDifferently() {
        #expect(throws: JSONError.self) { try parse(#"{"a":1,"a":2}"#) }
        #expect(throws: JSONError.self) { try parse(#"{"a":1,"\u0061":2}"#) }
        #expect(throws: JSONError.self) { try parse(#"{"x":{"k":1,"k":1}}"#) }
    }

    @Test func findsDuplicatesInObjectsOfManyKeys() throws {
        // Past the first keys, duplicates are looked up in a set rather than by a scan.
        let keys = (0..<20_000).map { #""k\#($0)":\#($0)"# }
        let object = try #require(try parse("{" + keys.joined(separator: ",") + "}").object)
        #expect(object.members.count == 20_000)
        #expect(object["k19999"] == .number("19999"))
        // A Bool, so that a failure does not print twenty thousand members.
        func rejects(_ text: String) -> Bool { (try? parse(text)) == nil }
        #expect(rejects("{" + keys.joined(separator: ",") + #","k3":0}"#))
        #expect(rejects("{" + keys.prefix(40).joined(separator: ",") + #","k39":0}"#))
        #expect(rejects("{" + keys.prefix(5).joined(separator: ",") + #","k0":0}"#))
    }

    @Test func readsRawUTF8AndASCIIStringsExactly() throws {
        #expect(try parse("\"caf\u{E9} \u{1F600} \u{7F}\"") == .string("caf\u{E9} \u{1F600} \u{7F}"))
        #expect(try parse(#""plain ascii, 100% of it""#) == .string("plain ascii, 100% of it"))
    }

    @Test func keepsCanonicallyEquivalentKeysApart() throws {
        // "é" precomposed and decomposed are equal as Swift Strings but are different keys.
        let object = try #require(try parse(#"{"\u00e9":1,"e\u0301":2}"#).object)
        #expect(object.members.count == 2)
        #expect(object["\u{E9}"] == .number("1"))
        #expect(object["e\u{301}"] == .number("2"))
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try parse(deep) }
        let fine = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        _ = try parse(fine)
    }

    @Test(arguments: [("1", 1), ("-7", -7), ("100000", 100_000)])
    func readsWholeNumbers(_ literal: String, _ expected: Int) throws {
        #expect(try parse(literal).integer == expected)
    }

    @Test(arguments: ["1.5", "1e2", "1e999", "18446744073709551616", "-9223372036854775809", "2.0"])
    func refusesNumbersThatAreNotExactInts(_ literal: String) throws {
        #expect(try parse(literal).integer == nil)
    }

    @Test(arguments: [0, 7, -7, 1_763_784_000_123, Int.max, Int.min])
    func writerWritesWholeNumbersExactly(_ value: Int) throws {
        var writer = JSONWriter()
        writer.write(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(value))
        #expect(try JSONParser.parse(writer.bytes).integer == value)
    }

    @Test func writerEscapesControlCharactersAndRoundTrips() throws {
        let tricky = "quote\" backslash\\ newline\n esc\u{1B}[31m del\u{7F} nul\u{0} é😀"
        var writer = JSONWriter()
        writer.write(.object(["t": .string(tricky), "n": .number("-1.5e3"), "a": .array([.null, .bool(true)])]))
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(!writer.bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }))
        #expect(text.contains(#"\u001b"#))
        let back = try JSONParser.parse(writer.bytes)
        #expect(back.object?["t"] == .string(tricky))
        #expect(back.object?["n"] == .number("-1.5e3"))
    }
}

@Suite struct EnvelopeTests {
    private func decode(_ text: String) -> Result<Envelope, Envelope.DecodeFailure> {
        Envelope.decode(Array(text.utf8)[...])
    }

    @Test func decodesAFullRequest() throws {
        let request = try decode(#"{"event":"join","params":{"room":"lobby"},"id":7}"#).get()
        #expect(request == ClientRequest(event: "join", params: ["room": .string("lobby")], id: .number("7")))
    }

    @Test func paramsAndIdAreOptional() throws {
        #expect(try decode(#"{"event":"ping"}"#).get() == ClientRequest(event: "ping"))
        #expect(try decode(#"{"event":"ping","params":null,"id":"x"}"#).get().id == .string("x"))
    }

    @Test(arguments: [
        ("nonsense", "bad_frame", false), ("[1]", "bad_frame", false), (#"{"params":{}}"#, "bad_frame", false),
        (#"{"event":5}"#, "bad_frame", false), (#"{"event":"x","id":[1]}"#, "bad_frame", false),
        (#"{"event":"x","params":[],"id":1}"#, "invalid_params", true), (#"{"id":2,"event":null}"#, "bad_frame", true),
        (#"{"event":"a","event":"b"}"#, "bad_frame", false),
    ])
    func classifiesBadFrames(_ text: String, _ code: String, _ keepsID: Bool) {
        guard case .failure(let failure) = decode(text) else {
            Issue.record("decoded \(text)")
            return
        }
        #expect(failure.error.code == code)
        #expect((failure.id != nil) == keepsID)
    }

    @Test func serverEventsEncodeAsOneLineWithTheID() throws {
        let bytes = ServerEvent.message(room: "lobby", from: "ann", text: "hi\nthere", seq: 3, ts: 42).encoded(id: .string("r1"))
        #expect(bytes.last == 0x0A)
        #expect(bytes.dropLast().firstIndex(of: 0x0A) == nil)
        let frame = try Envelope.decode(bytes.dropLast()).get()
        #expect(frame.event == "message")
        #expect(frame["text"] == .string("hi\nthere"))
        #expect(frame["seq"]?.integer == 3)
        #expect(frame.id == .string("r1"))
    }

    @Test func errorEventsCarryCodeMessageAndDetails() throws {
        let frame = try Envelope.decode(ServerEvent.error(.roomFull(room: "x", limit: 2)).encoded().dropLast()).get()
        #expect(frame.errorCode == "room_full")
        #expect(frame["message"] == .string("room 'x' is full (2/2)"))
        #expect(frame["limit"]?.integer == 2)
        let limited = try Envelope.decode(ServerEvent.error(.rateLimited(retryAfterMilliseconds: 250)).encoded().dropLast()).get()
        #expect(limited["retry_after_ms"]?.integer == 250)
    }
}

@Suite struct NameTests {
    @Test(arguments: ["a", "Alice_01", "x.y-z", String(repeating: "n", count: 32)])
    func acceptsValidUserNames(_ name: String) throws {
        try Names.validateUser(name)
    }

    @Test(arguments: ["", String(repeating: "n", count: 33), "al ice", "ålice", "аlice", "a\u{0}", "a/b", "a\u{1B}"])
    func refusesInvalidUserNames(_ name: String) {
        #expect(throws: ChatError.self) { try Names.validateUser(name) }
    }

    @Test func roomNamesMayBeLonger() throws {
        try Names.validateRoom(String(repeating: "r", count: 64))
        #expect(throws: ChatError.self) { try Names.validateRoom(String(repeating: "r", count: 65)) }
    }

    @Test func keysIgnoreASCIICaseOnly() {
        #expect(Names.key("AlIcE") == Names.key("alice"))
        #expect(Names.key("a.B-c_D") == "a.b-c_d")
    }
}
