extension Actor {
    /// Runs `body` on this actor at once, from code running on its executor: a session's. Sessions,
    /// the rooms and the accounts share that one serial executor, so a session already excludes the
    /// actor's other work, and its request needs no await, no hop and no async frame. Traps
    /// anywhere else.
    nonisolated func fromSession<T: Sendable, Failure: Error>(_ body: @Sendable (isolated Self) throws(Failure) -> T) throws(Failure) -> T {
        let outcome = assumeIsolated { actor -> Result<T, Failure> in
            do throws(Failure) { return .success(try body(actor)) } catch { return .failure(error) }
        }
        return try outcome.get()
    }
}
