import ActorChatProtocol

/// A room's member names in join order, kept as the JSON array `joined` and `members` carry. A
/// join appends one name instead of the reply encoding every member's again: in a storm of joins
/// into rooms of 190 that encoding was a fifth of the sessions' thread. Names are validated
/// (`Names`: ASCII letters, digits, `_ - .`), so each is written as it is, between quotes, and the
/// array is read back by counting quotes.
struct MemberNameList {
    private var json: [UInt8] = Array("[]".utf8)

    var encoded: EncodedJSON { EncodedJSON(bytes: json) }

    /// Where each name's bytes are, in join order: one pass, and no strings made.
    func nameRanges() -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start: Int?
        for index in 1..<(json.count - 1) where json[index] == UInt8(ascii: "\"") {
            if let opened = start {
                ranges.append(opened..<index)
                start = nil
            } else {
                start = index + 1
            }
        }
        return ranges
    }

    func name(in range: Range<Int>) -> String {
        String(decoding: json[range], as: UTF8.self)
    }

    mutating func append(_ name: String) {
        precondition(Names.problem(with: name, maxLength: Names.maxUserName) == nil, "member names are validated before they join")
        json.removeLast()
        if json.count > 1 { json.append(UInt8(ascii: ",")) }
        json.append(UInt8(ascii: "\""))
        json.append(contentsOf: name.utf8)
        json.append(contentsOf: "\"]".utf8)
    }

    /// Removes the name at `index` (join order).
    mutating func remove(at index: Int) {
        // Past the 2 × index quotes of the names before it: at the comma before the element, or
        // for the first, at its opening quote.
        var quotes = 0
        var start = 1
        while quotes < 2 * index {
            if json[start] == UInt8(ascii: "\"") { quotes += 1 }
            start += 1
        }
        // Its closing quote: names are never empty, so the search starts at its first character.
        var end = start + (index > 0 ? 2 : 1)
        while json[end] != UInt8(ascii: "\"") { end += 1 }
        end += 1
        // The first element takes the comma after it, if another follows; a later one the comma before it.
        if index == 0 && json[end] == UInt8(ascii: ",") { end += 1 }
        json.removeSubrange(start..<end)
    }
}
