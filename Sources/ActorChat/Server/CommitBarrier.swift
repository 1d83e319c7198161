import Synchronization

/// The sends a session has handed to the store whose commits have not been acted on yet. A session
/// does not wait for each send's commit (the next send can join the same group commit, and its
/// `sent` still comes in order, from the commit); it waits here only before a reply that would
/// otherwise overtake one of them.
public final class CommitBarrier: Sendable {
    private struct State {
        var pending = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    func add() {
        state.withLock { $0.pending += 1 }
    }

    func done() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.pending -= 1
            guard state.pending == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Whether every send handed over so far has been acted on.
    var isDrained: Bool {
        state.withLock { $0.pending } == 0
    }

    /// Returns once every send handed over so far has been acted on. Nothing pending is the usual
    /// case, answered inline, without the frame the wait needs.
    @inline(__always)
    func drained() async {
        guard !isDrained else { return }
        await waitUntilDrained()
    }

    @inline(never)
    private func waitUntilDrained() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard state.pending > 0 else { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
