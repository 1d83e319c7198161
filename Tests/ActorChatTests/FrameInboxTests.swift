import Testing
@testable import ActorChatClient
@testable import ActorChatProtocol

/// The client's inbox: waiters take the first frame their filter matches, and the rest stay queued.
@Suite struct FrameInboxTests {
    private let joinedAnn = ServerFrame(event: "user_joined", params: ["room": "lobby", "user": "ann"])
    private let joinedBob = ServerFrame(event: "user_joined", params: ["room": "lobby", "user": "bob"])
    private let reply = ServerFrame(event: "sent", params: ["seq": .number("1")], id: .number("7"))

    @Test func aWaiterTakesTheFirstMatchAndLeavesTheRestQueued() async throws {
        let inbox = FrameInbox()
        for frame in [joinedAnn, reply, joinedBob] { inbox.push(frame) }
        #expect(try await inbox.next(FrameFilter(.event("user_joined"), params: ["user": "bob"]), timeout: .seconds(5)) == joinedBob)
        #expect(try await inbox.next(FrameFilter(.reply(to: .number("7"))), timeout: .seconds(5)) == reply)
        #expect(inbox.queued == [joinedAnn])
        #expect(try await inbox.next(FrameFilter(.unsolicited), timeout: .seconds(5)) == joinedAnn)
    }

    @Test func aWaitingFilterIsMatchedByALaterFrame() async throws {
        let inbox = FrameInbox()
        async let taken = inbox.next(FrameFilter(.event("user_joined"), params: ["user": "bob"]), timeout: .seconds(10))
        inbox.push(joinedAnn)
        inbox.push(joinedBob)
        #expect(try await taken == joinedBob)
        #expect(inbox.queued == [joinedAnn])
    }

    @Test func aTimeoutNamesWhatWasAwaited() async throws {
        let inbox = FrameInbox()
        inbox.push(joinedAnn)
        let filter = FrameFilter(.event("user_left"), params: ["user": "ann"])
        await #expect(throws: ClientError.timeout(waitingFor: #"'user_left' with params {"user":"ann"}"#, after: .milliseconds(1))) {
            try await inbox.next(filter, timeout: .milliseconds(1))
        }
        #expect(inbox.queued == [joinedAnn])
    }
}
