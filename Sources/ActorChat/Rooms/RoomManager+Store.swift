import ActorChatCore
import ActorChatProtocol
import ActorChatStore
import Foundation

/// The rooms and the durable store: restoring at start, handing changes to the store's writer,
/// and acting on its commits in order. The `RoomManager` never waits on the disk: a create or a
/// close suspends its session until the writer's outcome resumes it, and a send is pipelined (its
/// reply comes from here, and the session's `CommitBarrier` hears when it has).
extension RoomManager {
    /// What a commit owes the request that caused it.
    struct PendingWrite: Sendable {
        enum Kind: Sendable {
            case message(roomKey: String, roomID: Int64, room: String, from: String, text: String, ts: Int)
            case createRoom(roomKey: String, roomID: Int64)
            case closeRoom(room: String, by: String)
            /// A change whose reply comes from the caller (accounts, sessions, roles, bans): its
            /// waiter hears the outcome.
            case change
        }

        let kind: Kind
        let requester: Connection?
        let replyID: JSONValue?
        /// Resumed once the commit is acted on: a request whose reply comes from the caller.
        var waiter: CheckedContinuation<Result<Void, ChatError>, Never>?
        /// Told once the commit is acted on: a send, whose reply (or error) comes from here.
        var barrier: CommitBarrier?

        /// Ends the request: its waiter gets `result`; without one, an error is the reply sent from here.
        func finish(_ result: Result<Void, ChatError>) {
            if let waiter {
                waiter.resume(returning: result)
            } else if case .failure(let error) = result {
                requester?.send(ServerEvent.error(error).encoded(id: replyID))
            }
            barrier?.done()
        }
    }

    /// Where a `history` page comes from.
    enum HistorySource: Sendable {
        /// Without a store: from the room's replay ring.
        case memory(messages: [HistoryEntry], more: Bool)
        /// From the store's reader, off this thread: seqs in `oldest..<before`.
        case stored(ChatStore, roomID: Int64, oldest: Int, before: Int)
    }

    /// Takes over `store` and the rooms it holds, and starts acting on its commits.
    func restore(_ store: ChatStore, rooms stored: [StoredRoom]) {
        self.store = store
        for room in stored {
            let recent = room.recent.map { HistoryEntry(seq: $0.seq, from: $0.from, text: $0.text, ts: $0.ts) }
            var restored = Room(
                name: room.name, limit: room.limit, ownerKey: room.ownerKey, storeID: room.id, firstSeq: room.firstSeq,
                replayCapacity: limits.replayCapacity, lastSeq: room.lastSeq, recent: recent)
            restored.ops = Set(room.ops)
            restored.bans = Set(room.bans)
            restored.isPrivate = room.isPrivate
            restored.accountInvites = Set(room.invites)
            rooms[Names.key(room.name)] = restored
            publish(restored)
        }
        Task(executorPreference: executor) {
            for await results in store.results { await self.didCommit(results) }
        }
    }

    func exists(_ name: String) -> Bool {
        rooms[Names.key(name)] != nil
    }

    /// Hands `operation` to the writer and suspends the caller until its commit has been acted on.
    func commit(
        _ operation: StoreOperation, in store: ChatStore, _ kind: PendingWrite.Kind, requester: Connection?,
        replyID: JSONValue?
    ) async throws(ChatError) {
        let outcome = await withCheckedContinuation { continuation in
            submit(operation, to: store, PendingWrite(kind: kind, requester: requester, replyID: replyID, waiter: continuation, barrier: nil))
        }
        try outcome.get()
    }

    /// Hands `operation` to the writer; `write` is what its outcome is acted on with (see `didCommit`).
    func submit(_ operation: StoreOperation, to store: ChatStore, _ write: PendingWrite) {
        store.submit(operation)
        pendingWrites.append(write)
    }

    /// Makes a change durable, returning once it is; without a store there is nothing to do.
    func persist(_ operation: StoreOperation) async throws(ChatError) {
        guard let store else { return }
        try await commit(operation, in: store, .change, requester: nil, replyID: nil)
    }

    /// Acts on one commit's outcomes in submission order: broadcasts and replies go out only now,
    /// so whatever a client has seen is on disk, and every session waiting on them carries on.
    func didCommit(_ outcomes: [StoreOutcome]) {
        for outcome in outcomes {
            let write = pendingWrites.removeFirst()
            switch (write.kind, outcome) {
            case (.message(let key, let roomID, let name, let from, let text, let ts), .stored(let seq?)):
                let message = HistoryEntry(seq: seq, from: from, text: text, ts: ts)
                if let index = rooms.index(forKey: key), inPlace(index, { $0.storeID }) == roomID {
                    inPlace(index) { $0.record(message) }
                    deliver(message, inRoomAt: index, replyTo: write.requester, replyID: write.replyID)
                } else if let replyID = write.replyID {
                    // Closed while its message was being stored: the sender is still answered.
                    write.requester?.send(ServerEvent.sent(room: name, seq: seq).encoded(id: replyID))
                }
                write.finish(.success(()))
            case (.message(_, _, let name, _, _, _), .roomGone), (.message(_, _, let name, _, _, _), .stored(nil)):
                write.finish(.failure(.roomNotFound(name)))
            case (.createRoom(let key, let roomID), .stored):
                if let room = rooms[key], room.storeID == roomID {
                    write.requester?.send(ServerEvent.roomCreated(room.info).encoded(id: write.replyID))
                }
                write.finish(.success(()))
            case (.change, .stored), (.change, .roomGone):
                write.finish(.success(()))
            case (.closeRoom(let name, let by), .stored), (.closeRoom(let name, let by), .roomGone):
                write.requester?.send(ServerEvent.roomClosed(room: name, by: by).encoded(id: write.replyID))
                write.finish(.success(()))
            case (.createRoom(let key, let roomID), .failed), (.createRoom(let key, let roomID), .roomGone):
                // Not durable, so not kept: whoever heard of the room hears it is gone.
                if rooms[key]?.storeID == roomID { dropUnstoredRoom(key) }
                write.finish(.failure(.unavailable(Self.reason(outcome))))
            case (_, .failed):
                write.finish(.failure(.unavailable(Self.reason(outcome))))
            }
        }
    }

    private static func reason(_ outcome: StoreOutcome) -> String {
        if case .failed(let error) = outcome { return "the store could not write (\(error.message))" }
        return "the store could not write"
    }

    /// Where a member (or an admin) reads a room's history from. Not inlined into the caller's
    /// async frame, which a session keeps for as long as it lives.
    @inline(never)
    func historySource(of name: String, userID: Int, admin: Bool, before: Int?, limit: Int) throws(ChatError) -> (room: String, source: HistorySource) {
        let user = try user(userID)
        let room = try visibleRoom(name, to: user).room
        guard admin || user.isMember(of: room) else { throw .notMember(room: room.name, user: nil) }
        let before = min(before ?? Int.max, room.seq + 1)
        guard let store else {
            let page = room.recent.page(before: before, limit: limit)
            return (room.name, .memory(messages: page.messages, more: page.more))
        }
        let oldest = max(room.firstSeq, room.seq - limits.historyLimit + 1)
        // The replay ring holds the newest committed messages: a page it covers whole (most pages,
        // which ask for the newest) is answered from memory, without a trip to the reader thread.
        let page = room.recent.page(before: before, limit: limit)
        if page.messages.count == limit, let first = page.messages.first {
            return (room.name, .memory(messages: page.messages, more: first.seq > oldest))
        }
        if (room.recent.oldestSeq ?? room.seq + 1) <= oldest || before <= oldest {
            return (room.name, .memory(messages: page.messages, more: false))
        }
        return (room.name, .stored(store, roomID: room.storeID, oldest: oldest, before: before))
    }

    /// The store's figures for `stats`; null without a store.
    /// The store's commit times, when there is a store.
    func commitHistogram() -> CommitHistogram? {
        store?.commitHistogram()
    }

    func storeFigures() async -> JSONValue {
        guard let store else { return .null }
        let figures = await store.statistics()
        func number(_ value: Int) -> JSONValue { .number(String(value)) }
        return .object([
            "path": .string(figures.path), "bytes": number(figures.bytes), "rows": number(figures.rows),
            "commits": number(figures.commits), "mean_batch": .number(String(format: "%.2f", figures.meanBatch)),
            "largest_batch": number(figures.largestBatch), "p99_commit_us": number(figures.p99CommitMicros),
        ])
    }
}
