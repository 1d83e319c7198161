import ActorChatCore
import ActorChatProtocol
/// Runs `operation`, failing with `ClientError.timeout` if it has not finished within `timeout`.
/// The operation is cancelled on timeout; it must honour cancellation to let this return.
package func withDeadline<T: Sendable>(
    _ timeout: Duration, waitingFor what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw ClientError.timeout(waitingFor: what, after: timeout)
        }
        return value
    }
}
