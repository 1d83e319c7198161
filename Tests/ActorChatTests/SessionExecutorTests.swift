import Foundation
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

@Suite struct SessionExecutorTests {
    /// An actor placed on a given executor that reports the thread it runs on. The thread is told
    /// by `Thread.current`, not `pthread_self()`: glibc declares that `const`, so the compiler may
    /// move it across the hop at an async function's entry.
    actor Probe {
        let executor: SessionExecutor
        var count = 0

        init(on executor: SessionExecutor) {
            self.executor = executor
        }

        nonisolated var unownedExecutor: UnownedSerialExecutor {
            executor.asUnownedSerialExecutor()
        }

        func thread() -> ObjectIdentifier {
            ObjectIdentifier(Thread.current)
        }

        /// The threads before, inside and after an await on `other`.
        func visit(_ other: Probe) async -> [ObjectIdentifier] {
            let before = thread()
            let inside = await other.thread()
            return [before, inside, thread()]
        }

        func increment() {
            count += 1
        }

        /// The name the kernel has for the thread this runs on, as top and perf show it.
        func kernelThreadName() -> String? {
            try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
        }
    }

    @Test func theThreadCarriesTheExecutorsNameCutToFifteenBytes() async {
        let probe = Probe(on: SessionExecutor(name: "test-sessions-named-at-length"))
        #expect(await probe.kernelThreadName() == "test-sessions-n")
    }

    @Test func actorsOnOneExecutorCallEachOtherWithoutLeavingItsThread() async {
        let shared = SessionExecutor(name: "test-sessions")
        let threads = await Probe(on: shared).visit(Probe(on: shared))
        #expect(Set(threads).count == 1)
        // The check tells threads apart: an actor on another executor runs elsewhere.
        let elsewhere = await Probe(on: shared).visit(Probe(on: SessionExecutor(name: "test-other")))
        #expect(elsewhere[0] == elsewhere[2])
        #expect(elsewhere[1] != elsewhere[0])
    }

    @Test func runsEveryJobFromManyTasks() async {
        let probe = Probe(on: SessionExecutor(name: "test-sessions"))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask { for _ in 0..<100 { await probe.increment() } }
            }
        }
        #expect(await probe.count == 10_000)
    }

    @Test func theThreadDoesNotKeepTheExecutorAlive() async throws {
        weak var released: SessionExecutor?
        do {
            let executor = SessionExecutor(name: "test-sessions")
            released = executor
            _ = await Probe(on: executor).thread()
        }
        // The thread holds the executor only while it runs a batch; once idle, the last release frees it.
        let deadline = ContinuousClock.now + .seconds(5)
        while released != nil && ContinuousClock.now < deadline { await Task.yield() }
        #expect(released == nil)
    }

    @Test func aWakeUpHeldByTheLoopWaitsForTheLastRelease() async throws {
        let executor = SessionExecutor(name: "test-sessions")
        try await withDeadline(.seconds(10), waitingFor: "the thread to run dry") {
            while !executor.isAsleep {
                try Task.checkCancellation()
                await Task.yield()
            }
        }
        // Two holds, as two loops handing over their turns at once would take.
        executor.holdWakeups()
        executor.holdWakeups()
        let (ran, didRun) = AsyncStream.makeStream(of: Void.self)
        Task(executorPreference: executor) { didRun.yield() }
        try await withDeadline(.seconds(10), waitingFor: "the job to reach the executor, or the thread to wake") {
            while executor.queuedJobs == 0 && executor.isAsleep {
                try Task.checkCancellation()
                await Task.yield()
            }
        }
        #expect(executor.isAsleep && executor.queuedJobs == 1, "held: queued, and the thread left asleep")
        executor.releaseWakeups()
        #expect(executor.isAsleep && executor.queuedJobs == 1, "still held by the other hold")
        executor.releaseWakeups()
        try await withDeadline(.seconds(10), waitingFor: "the job to run once the last hold is released") {
            for await _ in ran { return }
        }
    }
}
