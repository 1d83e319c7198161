import ActorChatCore
import Dispatch
import Foundation
import Synchronization

/// The store's reading thread, with a connection of its own: `history` pages are read here, beside
/// the writer (WAL lets them run at once), never on the sessions' thread.
final class StoreReader: Sendable {
    private struct Queue {
        var jobs: [@Sendable (SQLiteDatabase) -> Void] = []
        var sleeping = false
        var closed = false
    }

    private let queue = Mutex(Queue())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Takes over `database`, used only on the reader's thread from here on.
    init(database: sending SQLiteDatabase) {
        // The connection is handed to the thread and touched nowhere else.
        let owned = Mutex(Optional(database))
        Thread { [self] in
            Thread.nameCurrent("chat-store-read")
            if let database = owned.withLock({ $0.take() }) { run(database) }
            finished.signal()
        }.start()
    }

    /// Runs the reads already queued, then ends the thread and closes its connection.
    func close() {
        let wake = queue.withLock { queue -> Bool in
            queue.closed = true
            defer { queue.sleeping = false }
            return queue.sleeping
        }
        if wake { wakeup.signal() }
        finished.wait()
    }

    /// Runs `read` on the reader's thread and returns its result.
    func perform<T: Sendable>(_ read: @escaping @Sendable (SQLiteDatabase) throws(SQLiteError) -> T) async throws(SQLiteError) -> T {
        let result: Result<T, SQLiteError> = await withCheckedContinuation { continuation in
            let job: @Sendable (SQLiteDatabase) -> Void = { database in
                do throws(SQLiteError) {
                    continuation.resume(returning: .success(try read(database)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            let (accepted, wake) = queue.withLock { queue -> (Bool, Bool) in
                guard !queue.closed else { return (false, false) }
                queue.jobs.append(job)
                defer { queue.sleeping = false }
                return (true, queue.sleeping)
            }
            if !accepted {
                continuation.resume(returning: .failure(SQLiteError(code: 21, message: "the store is closed", path: "")))
            } else if wake {
                wakeup.signal()
            }
        }
        return try result.get()
    }

    private func run(_ database: SQLiteDatabase) {
        var batch: [@Sendable (SQLiteDatabase) -> Void] = []
        while true {
            let closed = queue.withLock { queue -> Bool in
                swap(&queue.jobs, &batch)
                if batch.isEmpty && !queue.closed { queue.sleeping = true }
                return queue.closed
            }
            if batch.isEmpty {
                if closed { return }
                wakeup.wait()
                continue
            }
            for job in batch { job(database) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
