import ActorChatCore
import ActorChatProtocol
/// The room list clients see, sorted by name and kept as the JSON array `welcome` and `rooms` carry.
/// A change rewrites one room's bytes in place, so a login or a `rooms` request copies the array
/// instead of sorting and encoding every room (at 1,000 rooms that had cut logins per second to a
/// third, and at 10,000 to a twentieth).
struct RoomDirectory {
    /// In name order.
    private(set) var rooms: [RoomInfo] = []
    /// `[` + each room's JSON object, separated by commas + `]`.
    private var json: [UInt8] = Array("[]".utf8)
    /// Where each room's object starts in `json`.
    private var starts: [Int] = []

    /// The rooms as a JSON array of `RoomInfo`.
    var encodedList: EncodedJSON { EncodedJSON(bytes: json) }

    /// Adds a room, or replaces the room of that name (its count changed).
    mutating func set(_ info: RoomInfo) {
        var writer = JSONWriter(capacity: 64)
        writer.write(info)
        let entry = writer.bytes
        let index = position(of: info.name)
        if index < rooms.count && rooms[index].name == info.name {
            rooms[index] = info
            let old = starts[index]..<end(of: index)
            json.replaceSubrange(old, with: entry)
            shiftStarts(after: index, by: entry.count - old.count)
        } else if index < rooms.count {
            let start = starts[index]
            json.replaceSubrange(start..<start, with: entry + [UInt8(ascii: ",")])
            rooms.insert(info, at: index)
            starts.insert(start, at: index)
            shiftStarts(after: index, by: entry.count + 1)
        } else {
            // Last in name order: after a comma, unless the list was empty.
            let separator: [UInt8] = rooms.isEmpty ? [] : [UInt8(ascii: ",")]
            let at = json.count - 1
            json.replaceSubrange(at..<at, with: separator + entry)
            rooms.append(info)
            starts.append(at + separator.count)
        }
    }

    mutating func remove(named name: String) {
        let index = position(of: name)
        guard index < rooms.count && rooms[index].name == name else { return }
        // The room's object and one comma beside it: the one after it, or for the last room, the one before.
        let removed = index + 1 < rooms.count ? starts[index]..<starts[index + 1]
            : (index > 0 ? starts[index] - 1 : starts[index])..<json.count - 1
        json.removeSubrange(removed)
        rooms.remove(at: index)
        starts.remove(at: index)
        shiftStarts(after: index - 1, by: -removed.count)
    }

    /// The index of the room named `name`, or where it would go.
    private func position(of name: String) -> Int {
        var low = 0, high = rooms.count
        while low < high {
            let middle = (low + high) / 2
            if rooms[middle].name < name { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Where the room at `index` ends: at the comma after it, or at the closing bracket.
    private func end(of index: Int) -> Int {
        index + 1 < starts.count ? starts[index + 1] - 1 : json.count - 1
    }

    private mutating func shiftStarts(after index: Int, by delta: Int) {
        guard delta != 0 else { return }
        for later in (index + 1)..<starts.count { starts[later] += delta }
    }
}
