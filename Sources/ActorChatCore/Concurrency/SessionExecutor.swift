import Dispatch
import Foundation
import Synchronization

/// The executor a server's sessions and its `RoomManager` share: one thread that takes the whole
/// queue of jobs each turn, serving as the actors' serial executor and as the session tasks' task
/// executor. Actors on one serial executor call each other without leaving the thread, so a
/// request's trip into the `RoomManager` and back is two direct calls; the task executor keeps the
/// sessions' nonisolated steps (inside `AsyncStream`, say) here instead of on the global pool; and
/// the thread is woken only when it has run dry, not once per job.
public final class SessionExecutor: SerialExecutor, TaskExecutor {
    private let queue = Mutex(Queue())
    private let wakeup = DispatchSemaphore(value: 0)

    private struct Queue {
        var jobs: [UnownedJob] = []
        /// The thread found no jobs and waits on `wakeup`; the next enqueue signals it, once.
        var sleeping = false
    }

    /// Starts the thread; it ends once the executor is released.
    public init(name: String) {
        let thread = Thread { [weak self, wakeup] in
            Thread.nameCurrent(name)
            var batch: [UnownedJob] = []
            while let executor = self {
                if !executor.runBatch(&batch) {
                    // The wait holds no reference: releasing the executor is what ends the thread.
                    _ = consume executor
                    wakeup.wait()
                }
            }
        }
        thread.start()
    }

    deinit {
        wakeup.signal()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wake = queue.withLock { queue -> Bool in
            queue.jobs.append(job)
            defer { queue.sleeping = false }
            return queue.sleeping
        }
        if wake { wakeup.signal() }
    }

    /// Jobs waiting for the thread: lets a test see that work has reached it.
    package var queuedJobs: Int {
        queue.withLock { $0.jobs.count }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Runs every job queued so far, in order; false (and marked sleeping) when there were none.
    private func runBatch(_ batch: inout [UnownedJob]) -> Bool {
        queue.withLock { queue in
            swap(&queue.jobs, &batch)
            if batch.isEmpty { queue.sleeping = true }
        }
        guard !batch.isEmpty else { return false }
        // Every job runs as holding the serial executor, which is true of the one thread that runs
        // them all: that is what lets an actor on it enter another without queueing.
        let serial = asUnownedSerialExecutor()
        let task = asUnownedTaskExecutor()
        for job in batch { job.runSynchronously(isolatedTo: serial, taskExecutor: task) }
        batch.removeAll(keepingCapacity: true)
        return true
    }
}
