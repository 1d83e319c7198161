import ActorChatCore
import ActorChatProtocol
import Synchronization

/// Frames received and not yet taken, and the tasks waiting for one. A waiter takes the first
/// frame its filter matches, so frames of other kinds stay queued for whoever wants them. Every
/// waiter is resumed exactly once, by whoever removes it from the table: a frame, the end, a
/// timeout, or cancellation. Filters are tested under the lock, which is safe because they are
/// values (`FrameFilter`) that cannot call out.
final class FrameInbox: Sendable {
    private struct Waiter {
        let filter: FrameFilter
        let continuation: CheckedContinuation<ServerFrame, any Error>
    }

    private struct State {
        var frames: [ServerFrame] = []
        var waiters: [(id: UInt64, waiter: Waiter)] = []
        var nextWaiter: UInt64 = 0
        var ended: ClientError?
    }

    private let state = Mutex(State())

    func push(_ frame: ServerFrame) {
        let taker = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.waiter.filter.matches(frame) }) else {
                state.frames.append(frame)
                return nil
            }
            return state.waiters.remove(at: index).waiter
        }
        taker?.continuation.resume(returning: frame)
    }

    /// No more frames will come: every waiter, present and future, fails with `reason` once the queue holds no match.
    func finish(_ reason: ClientError) {
        let waiters = state.withLock { state in
            state.ended = state.ended ?? reason
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.waiter.continuation.resume(throwing: reason) }
    }

    /// Frames queued now, in arrival order, without taking them.
    var queued: [ServerFrame] { state.withLock { $0.frames } }

    func next(_ filter: FrameFilter, timeout: Duration) async throws -> ServerFrame {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        // The timer starts only once the waiter is in the table, so it can never fire too early to find it.
        let timer = Mutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate = state.withLock { state -> Result<ServerFrame, any Error>? in
                    if let index = state.frames.firstIndex(where: filter.matches) { return .success(state.frames.remove(at: index)) }
                    if let ended = state.ended { return .failure(ended) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters.append((id, Waiter(filter: filter, continuation: continuation)))
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                    return
                }
                timer.withLock {
                    $0 = Task {
                        guard (try? await Task.sleep(for: timeout)) != nil else { return }
                        self.fail(id, with: ClientError.timeout(waitingFor: filter.description, after: timeout))
                    }
                }
            }
        } onCancel: {
            fail(id, with: CancellationError())
        }
    }

    private func fail(_ id: UInt64, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).waiter
        }
        waiter?.continuation.resume(throwing: error)
    }
}
