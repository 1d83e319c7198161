import ActorChatCore
import Dispatch
import Foundation
import Synchronization

/// The store's one writing thread. Operations queue up while a commit runs, and the next commit
/// takes them all in one transaction (group commit): the more that arrive, the fewer commits per
/// operation. Nothing on the sessions' thread or the event loop ever waits for it; outcomes go
/// out, in submission order, on `results`.
final class StoreWriter: Sendable {
    private let queue = ThreadQueue<StoreOperation>()
    private let finished = DispatchSemaphore(value: 0)
    private let results: AsyncStream<[StoreOutcome]>.Continuation
    let statistics: Mutex<CommitStatistics>
    private let commitIntervalNanos: UInt64
    /// A batch this large is committed at once, however soon after the last.
    private static let fullBatch = 256
    /// A page limit for the file, applied by the writer before its next commit (see `ChatStore.limitPages`).
    let pageLimit = Mutex<Int??>(nil)

    /// Takes over `database` (used only on the writer's thread from here on).
    init(database: sending SQLiteDatabase, state: WriterState, options: StoreOptions, results: AsyncStream<[StoreOutcome]>.Continuation) {
        self.results = results
        commitIntervalNanos = options.commitIntervalNanos
        statistics = Mutex(CommitStatistics())
        // The session is handed to the thread and touched nowhere else.
        let handoff = Mutex(Optional(WriterSession(database: database, state: state, options: options)))
        Thread { [self] in
            Thread.nameCurrent("chat-store")
            // The session, and with it the connection, is released before `close` returns, so
            // SQLite checkpoints the WAL into the file before the process exits.
            if let session = handoff.withLock({ $0.take() }) { run(session) }
            finished.signal()
        }.start()
    }

    func submit(_ operation: StoreOperation) {
        queue.push(operation)
    }

    /// Commits what is queued, then stops the thread and returns.
    func close() {
        queue.close()
        finished.wait()
    }

    private func run(_ session: WriterSession) {
        var batch: [StoreOperation] = []
        var lastCommit: UInt64 = 0
        while queue.take(into: &batch) {
            // A commit costs about as much as the inserts of a few dozen messages (a wake-up, the
            // file's locks, the WAL's writes), and a quick commit leaves little for the next one to
            // gather: commits that come back to back are spaced by `commitIntervalNanos`, so a busy
            // store commits in batches rather than in ones and twos. Short, as a batch committed
            // at once is delivered at once, in a burst other requests wait behind.
            let sinceLast = monotonicNanos() - lastCommit
            if sinceLast < commitIntervalNanos && batch.count < Self.fullBatch {
                Thread.sleep(forTimeInterval: Double(commitIntervalNanos - sinceLast) / 1e9)
                queue.takeMore(into: &batch)
            }
            if let limit = pageLimit.withLock({ $0.take() }) { session.limitPages(to: limit) }
            let started = monotonicNanos()
            lastCommit = started
            let outcomes = session.commit(batch)
            let micros = Int((monotonicNanos() - started) / 1000)
            results.yield(outcomes)
            let size = batch.count
            statistics.withLock { $0.record(batch: size, micros: micros) }
            batch.removeAll(keepingCapacity: true)
            session.pruneIfDue()
            session.indexIfDue()
        }
        // A clean stop leaves nothing for the next start to index.
        session.indexIfDue(force: true)
        results.finish()
    }
}
