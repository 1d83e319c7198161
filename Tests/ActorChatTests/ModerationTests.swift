import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// Owners, moderators and bans against a real server in this process.
@Suite struct ModerationTests {
    @Test func aGuestsRightsInItsRoomEndWithItsLogin() async throws {
        let server = try await TestServer.start()
        let gus = try await server.client("gus")
        try await gus.request("create_room", ["room": "den", "limit": .number("5")])
        let joined = try await gus.request("join", ["room": "den"])
        #expect(joined["roles"] == .object(["gus": "owner"]))
        let wes = try await server.client("wes")
        try await wes.request("join", ["room": "den"])
        gus.close()
        _ = try await wes.next("user_left", with: ["user": "gus"])
        // Another login under the same name is someone else.
        let impostor = try await server.client("gus")
        await expectError("forbidden") { try await impostor.request("close_room", ["room": "den"]) }
        await server.stop()
    }

    @Test func moderatorsKickAndBanButNotTheOwnerOrAnAdmin() async throws {
        let server = try await TestServer.start()
        let olive = try await server.account("olive")
        let pete = try await server.account("pete")
        try await olive.request("create_room", ["room": "club", "limit": .number("5")])
        try await olive.request("join", ["room": "club"])
        try await pete.request("join", ["room": "club"])
        _ = try await olive.next("user_joined")
        let quin = try await server.client("quin")
        try await quin.request("join", ["room": "club"])
        for client in [olive, pete] { _ = try await client.next("user_joined", with: ["user": "quin"]) }

        await expectError("user_not_found") { try await olive.request("op", ["room": "club", "user": "quin"]) }
        await expectError("forbidden") { try await pete.request("op", ["room": "club", "user": "pete"]) }
        let opped = try await olive.request("op", ["room": "club", "user": "pete"])
        #expect(opped.event == "role_changed" && opped["user"] == "pete" && opped["role"] == "op")
        #expect(try await pete.next("role_changed")["role"] == "op")
        #expect(try await quin.next("role_changed")["user"] == "pete")
        let who = try await quin.request("who", ["room": "club"])
        #expect(who["roles"] == .object(["olive": "owner", "pete": "op"]))

        await expectError("forbidden") { try await pete.request("kick", ["room": "club", "user": "olive"]) }
        await expectError("forbidden") { try await pete.request("ban", ["room": "club", "user": "olive"]) }
        await expectError("forbidden") { try await pete.request("close_room", ["room": "club"]) }
        let admin = try await server.client("root", admin: true)
        await expectError("forbidden") { try await pete.request("ban", ["room": "club", "user": "root"]) }

        let banned = try await pete.request("ban", ["room": "club", "user": "quin"])
        #expect(banned.event == "user_banned" && banned["user"] == "quin")
        let kicked = try await quin.next("kicked")
        #expect(kicked["reason"] == "banned" && kicked["by"] == "pete")
        let left = try await olive.next("user_left")
        #expect(left["user"] == "quin" && left["reason"] == "banned")
        await expectError("banned") { try await quin.request("join", ["room": "club"]) }
        // A name is banned whether or not it is online, and a ban is lifted by name too.
        #expect(try await pete.request("ban", ["room": "club", "user": "zed"]).event == "user_banned")
        let zed = try await server.client("zed")
        await expectError("banned") { try await zed.request("join", ["room": "club"]) }
        #expect(try await admin.request("unban", ["room": "club", "user": "quin"]).event == "user_unbanned")
        #expect(try await quin.request("join", ["room": "club"]).event == "joined")

        let deopped = try await olive.request("deop", ["room": "club", "user": "pete"])
        #expect(deopped["role"] == .null)
        await expectError("forbidden") { try await pete.request("kick", ["room": "club", "user": "quin"]) }
        try await server.expectAlive()
        await server.stop()
    }
}
