/// The writes the `RoomManager` has handed to the store, oldest first. The store answers in
/// submission order, so a commit's n outcomes belong to the n oldest writes here; the store's
/// writer thread never sees them.
struct PendingWriteQueue {
    /// Taken writes leave an empty slot until the front is compacted away, so nothing they hold
    /// (a connection, a waiter) outlives its commit.
    private var writes: [RoomManager.PendingWrite?] = []
    private var head = 0

    mutating func append(_ write: RoomManager.PendingWrite) {
        writes.append(write)
    }

    /// The oldest write; there is one for every outcome the store gives.
    mutating func removeFirst() -> RoomManager.PendingWrite {
        guard let write = writes[head].take() else { preconditionFailure("an outcome without its write") }
        head += 1
        if head == writes.count {
            writes.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= writes.count {
            writes.removeFirst(head)
            head = 0
        }
        return write
    }
}
