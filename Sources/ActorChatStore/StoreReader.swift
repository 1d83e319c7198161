import ActorChatCore
import Dispatch
import Foundation
import Synchronization

/// The store's reading thread, with a connection of its own: `history` pages are read here, beside
/// the writer (WAL lets them run at once), never on the sessions' thread.
final class StoreReader: Sendable {
    private typealias Job = @Sendable (SQLiteDatabase) -> Void
    private let queue = ThreadQueue<Job>()
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
        queue.close()
        finished.wait()
    }

    /// Runs `read` on the reader's thread and returns its result.
    func perform<T: Sendable>(_ read: @escaping @Sendable (SQLiteDatabase) throws(SQLiteError) -> T) async throws(SQLiteError) -> T {
        let result: Result<T, SQLiteError> = await withCheckedContinuation { continuation in
            let job: Job = { database in
                do throws(SQLiteError) {
                    continuation.resume(returning: .success(try read(database)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !queue.push(job) {
                continuation.resume(returning: .failure(SQLiteError(code: 21, message: "the store is closed", path: "")))
            }
        }
        return try result.get()
    }

    private func run(_ database: SQLiteDatabase) {
        var batch: [Job] = []
        while queue.take(into: &batch) {
            for job in batch { job(database) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
