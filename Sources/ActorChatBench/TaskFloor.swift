import ActorChatCore
import Glibc
import Synchronization

/// The memory floor of the shape the server keeps for every socket: a task with the sessions'
/// executor preference, suspended on an `AsyncStream` of its own, and nothing else. An idle
/// session costs this plus what it holds; issue 23's idle-connection target is judged against it.
package enum TaskFloor {
    /// Bytes of resident memory per suspended task, over `tasks` of them; `preference: false`
    /// leaves out the task executor preference, to show what it costs.
    package static func bytesPerTask(tasks: Int, preference: Bool = true) async -> Double {
        let executor = SessionExecutor(name: "task-floor")
        let sampler = ServerSampler(pid: getpid())
        let suspended = SuspendedCount()
        let before = sampler.memory().resident
        var resident = before
        await withTaskExecutorPreference(preference ? executor : nil) {
            await withDiscardingTaskGroup { group in
                var continuations: [AsyncStream<[UInt8]>.Continuation] = []
                continuations.reserveCapacity(tasks)
                for _ in 0..<tasks {
                    let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
                    continuations.append(continuation)
                    group.addTask {
                        suspended.value.add(1, ordering: .relaxed)
                        for await _ in stream {}
                    }
                }
                // Each task counts itself just before it suspends; one more turn and all have.
                while suspended.value.load(ordering: .relaxed) < tasks { await Task.yield() }
                await Task.yield()
                resident = sampler.memory().resident
                continuations.forEach { $0.finish() }
            }
        }
        return Double(resident - before) / Double(tasks)
    }
}

/// How many of the floor's tasks have reached their await.
private final class SuspendedCount: Sendable {
    let value = Atomic<Int>(0)
}
