/// The rooms a user is in, by key. Most users are in one room or none, and hold it inline: a `Set`
/// of one allocated 96 bytes for every idle client. Past one room it is a `Set`, so a user in many
/// rooms still finds each in constant time.
struct RoomKeySet: Sequence {
    private enum Storage {
        case empty
        case one(String)
        case many(Set<String>)
    }

    private var storage = Storage.empty

    var count: Int {
        switch storage {
        case .empty: 0
        case .one: 1
        case .many(let keys): keys.count
        }
    }

    func contains(_ key: String) -> Bool {
        switch storage {
        case .empty: false
        case .one(let held): held == key
        case .many(let keys): keys.contains(key)
        }
    }

    mutating func insert(_ key: String) {
        switch storage {
        case .empty:
            storage = .one(key)
        case .one(let held):
            if held != key { storage = .many([held, key]) }
        case .many(var keys):
            // Let go of the enum's reference first, so the set is unique and grows in place.
            storage = .empty
            keys.insert(key)
            storage = .many(keys)
        }
    }

    mutating func remove(_ key: String) {
        switch storage {
        case .empty:
            return
        case .one(let held):
            if held == key { storage = .empty }
        case .many(var keys):
            storage = .empty
            keys.remove(key)
            storage = keys.count == 1 ? .one(keys.first!) : .many(keys)
        }
    }

    func makeIterator() -> Iterator {
        switch storage {
        case .empty: Iterator(single: nil, rest: nil)
        case .one(let key): Iterator(single: key, rest: nil)
        case .many(let keys): Iterator(single: nil, rest: keys.makeIterator())
        }
    }

    struct Iterator: IteratorProtocol {
        fileprivate var single: String?
        fileprivate var rest: Set<String>.Iterator?

        mutating func next() -> String? {
            if let key = single {
                single = nil
                return key
            }
            return rest?.next()
        }
    }
}
