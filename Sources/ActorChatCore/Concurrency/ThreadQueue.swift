import Dispatch
import Synchronization

/// Work handed to one thread, taken all at once: the thread sleeps only when it has run dry, and
/// a push wakes it once, not once per item. Used by the store's writer and reader threads and the password hashers.
package final class ThreadQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var sleeping = false
        var closed = false
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    package init() {}

    /// Queues `item`; false (and not queued) once the queue is closed.
    @discardableResult
    package func push(_ item: Item) -> Bool {
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.items.append(item)
            defer { state.sleeping = false }
            return (true, state.sleeping)
        }
        if wake { wakeup.signal() }
        return accepted
    }

    /// Takes no more; what is queued is still taken.
    package func close() {
        let wake = state.withLock { state -> Bool in
            state.closed = true
            defer { state.sleeping = false }
            return state.sleeping
        }
        if wake { wakeup.signal() }
    }

    /// Appends whatever is queued to `batch`, without waiting. Called by the queue's one thread.
    package func takeMore(into batch: inout [Item]) {
        state.withLock { state in
            batch.append(contentsOf: state.items)
            state.items.removeAll(keepingCapacity: true)
        }
    }

    /// Swaps everything queued into `batch` (empty), waiting while nothing is; false once the
    /// queue is closed and drained. Called by the queue's one thread.
    package func take(into batch: inout [Item]) -> Bool {
        while true {
            let closed = state.withLock { state -> Bool in
                swap(&state.items, &batch)
                if batch.isEmpty && !state.closed { state.sleeping = true }
                return state.closed
            }
            if !batch.isEmpty { return true }
            if closed { return false }
            wakeup.wait()
        }
    }
}
