import ActorChatProtocol

/// A room's newest messages, for replay on join: at most `capacity`, oldest dropped first.
struct MessageRing {
    let capacity: Int
    private var storage: [HistoryEntry] = []
    /// Where the oldest message is once the ring is full.
    private var head = 0

    init(capacity: Int, messages: [HistoryEntry] = []) {
        self.capacity = capacity
        for message in messages { append(message) }
    }

    var count: Int { storage.count }

    /// The oldest message held; nil when empty.
    var oldestSeq: Int? { storage.isEmpty ? nil : storage[head].seq }

    mutating func append(_ message: HistoryEntry) {
        guard capacity > 0 else { return }
        if storage.count < capacity {
            storage.append(message)
        } else {
            storage[head] = message
            head = (head + 1) % capacity
        }
    }

    /// The newest `count` messages, oldest first.
    func last(_ count: Int) -> [HistoryEntry] {
        let take = min(count, storage.count)
        return (storage.count - take..<storage.count).map { storage[(head + $0) % storage.count] }
    }

    /// The messages with seq > `seq`, oldest first.
    func after(_ seq: Int) -> [HistoryEntry] {
        let all = last(storage.count)
        guard let first = all.firstIndex(where: { $0.seq > seq }) else { return [] }
        return Array(all[first...])
    }

    /// Up to `limit` messages with seq < `before`, oldest first, and whether older ones are held.
    /// Walks back from the newest, so a page near the end costs its own length, not the ring's.
    func page(before: Int, limit: Int) -> (messages: [HistoryEntry], more: Bool) {
        var newestFirst: [HistoryEntry] = []
        for offset in stride(from: storage.count - 1, through: 0, by: -1) {
            let message = storage[(head + offset) % storage.count]
            guard message.seq < before else { continue }
            if newestFirst.count == limit { return (newestFirst.reversed(), true) }
            newestFirst.append(message)
        }
        return (newestFirst.reversed(), false)
    }
}
