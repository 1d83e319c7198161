import Glibc
import Testing
@testable import ActorChatClient
@testable import ActorChatCore

/// The event loop against failures the kernel cannot be made to produce on demand, injected into a
/// real loop (`InjectedFaults`), and against misuse of its loop-only state.
@Suite struct LoopFaultTests {
    @Test func aListenerThatCannotBeWatchedAgainSaysWhyAndKeepsTrying() async throws {
        let faults = InjectedFaults()
        // The first accept runs out of descriptors, so the listener pauses (its first epoll_ctl
        // MOD); watching it again (the second) is refused once.
        faults.script(.accept, [ENFILE])
        faults.script(.epollModify, [nil, ENOMEM])
        let loop = try EventLoop(name: "test-loop", faults: faults)
        let (accepted, acceptedInput) = AsyncStream.makeStream(of: Connection.self)
        let (events, eventInput) = AsyncStream.makeStream(of: ListenerEvent.self)
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 0)[0]
        let listener = try loop.listen(on: address) { acceptedInput.yield($0) } onEvent: { eventInput.yield($0) }
        let client = try await loop.connect(to: listener.address)

        let connection = try await withDeadline(.seconds(10), waitingFor: "the connection to be accepted") {
            for await connection in accepted { return connection }
            throw ClientError.closed
        }
        #expect(connection.peer.port == Socket.localAddress(client.fd)?.port)
        let said = try await withDeadline(.seconds(10), waitingFor: "two pauses") {
            var said: [SystemError] = []
            for await case .acceptPaused(let error) in events {
                said.append(error)
                if said.count == 2 { break }
            }
            return said
        }
        #expect(said == [SystemError("accept4", code: ENFILE), SystemError("epoll_ctl", code: ENOMEM)])
        await loop.stop()
    }

    @Test func aConnectionTheLoopCannotWatchFailsItsConnect() async throws {
        let faults = InjectedFaults()
        // The loop's own eventfd is the first registration; the pair's first end is the second.
        faults.script(.epollAdd, [nil, ENOSPC])
        let loop = try EventLoop(name: "test-loop", faults: faults)
        await #expect(throws: SystemError("epoll_ctl", code: ENOSPC)) { try await loop.connectedPair() }
        // The loop carries on: the next registration is watched as usual.
        let (left, right) = try await loop.connectedPair()
        left.send([42])
        var iterator = right.inbound.makeAsyncIterator()
        #expect(await iterator.next() == [42])
        await loop.stop()
    }

    @Test(.enabled(if: _isDebugAssertConfiguration(), "the check is a debug-build assertion"))
    func loopStateTouchedOffTheLoopThreadStopsADebugBuild() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let loop = try EventLoop(name: "test-loop")
            let (left, _) = try await loop.connectedPair()
            _ = left.io
        }
        let said = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(said.contains("touched off its event loop's thread"))
    }
}
