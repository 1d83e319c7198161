import Dispatch
import Foundation
import Synchronization

/// The serial executor a server's `Session` actors and its `RoomManager` share: one thread that
/// takes the whole queue of jobs each turn. Actors on one serial executor call each other without
/// leaving the thread, so a request's trip into the `RoomManager` and back is two direct calls,
/// and the thread is woken only when it has run dry, not once per job.
public final class SessionExecutor: SerialExecutor {
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
            var batch: [UnownedJob] = []
            while let executor = self {
                if !executor.runBatch(&batch) {
                    // The wait holds no reference: releasing the executor is what ends the thread.
                    _ = consume executor
                    wakeup.wait()
                }
            }
        }
        thread.name = name
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
        let executor = asUnownedSerialExecutor()
        for job in batch { job.runSynchronously(on: executor) }
        batch.removeAll(keepingCapacity: true)
        return true
    }
}
