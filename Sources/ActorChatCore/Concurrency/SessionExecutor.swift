import Dispatch
import Foundation
import Synchronization

/// The executor a server's sessions and its `RoomManager` share: one thread that takes the whole
/// queue of jobs each turn, serving as the actors' serial executor and as the session tasks' task
/// executor. Actors on one serial executor call each other without leaving the thread, so a
/// request's trip into the `RoomManager` and back is two direct calls; the task executor keeps the
/// sessions' nonisolated steps (inside `AsyncStream`, say) here instead of on the global pool; and
/// the thread is woken only when it has run dry, not once per job, and not before the end of an
/// event loop's turn that holds its wake-ups (`holdWakeups`).
public final class SessionExecutor: SerialExecutor, TaskExecutor {
    private let queue = Mutex(Queue())
    private let wakeup = DispatchSemaphore(value: 0)

    private struct Queue {
        var jobs: [UnownedJob] = []
        /// The thread found no jobs and waits on `wakeup`; the next enqueue signals it, once.
        var sleeping = false
        /// Event loops handing over a turn's reads: while any is, the wake-up waits for `releaseWakeups`.
        var holds = 0
        /// A wake-up that waited while held.
        var owed = false
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
            guard queue.sleeping else { return false }
            guard queue.holds == 0 else {
                queue.owed = true
                return false
            }
            queue.sleeping = false
            return true
        }
        if wake { wakeup.signal() }
    }

    /// Defers waking the thread until `releaseWakeups`: for an event loop about to hand over a
    /// turn's reads, each of which would otherwise wake the thread (and the kernel switch to it).
    /// Jobs from any thread still queue meanwhile; only the wake-up waits.
    package func holdWakeups() {
        queue.withLock { $0.holds += 1 }
    }

    /// Ends `holdWakeups`, waking the thread if a job came meanwhile.
    package func releaseWakeups() {
        let wake = queue.withLock { queue -> Bool in
            queue.holds -= 1
            guard queue.holds == 0, queue.owed else { return false }
            queue.owed = false
            queue.sleeping = false
            return true
        }
        if wake { wakeup.signal() }
    }

    /// Jobs waiting for the thread: lets a test see that work has reached it.
    package var queuedJobs: Int {
        queue.withLock { $0.jobs.count }
    }

    /// The thread ran dry and waits for a wake-up: lets a test see that it was not woken.
    package var isAsleep: Bool {
        queue.withLock { $0.sleeping }
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
