import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// Private rooms, invites and room settings against a real server in this process.
@Suite struct PrivateRoomTests {
    private func roomNames(_ reply: ServerFrame) -> [String] {
        (reply["rooms"]?.array ?? []).compactMap { $0.object?["name"]?.string }
    }

    /// Whatever reached `client` unasked, up to now (a ping's answer marks now).
    private func unsolicited(_ client: ChatClient) async throws -> [ServerFrame] {
        try await client.request("ping")
        return client.queuedFrames.filter { $0.id == nil }
    }

    @Test func aPrivateRoomDoesNotExistForThoseWhoMayNotSeeIt() async throws {
        let server = try await TestServer.start()
        let pia = try await server.account("pia")
        let gil = try await server.client("gil")
        let created = try await pia.request("create_room", ["room": "vault", "limit": .number("3"), "private": .bool(true)])
        #expect(created["room"]?.object?["private"] == .bool(true))
        #expect(try await unsolicited(gil).allSatisfy { $0.event != "room_created" }, "no news of it")
        #expect(!roomNames(try await gil.request("rooms")).contains("vault"))
        #expect(roomNames(try await pia.request("rooms")).contains("vault"))
        let late = try await server.client("late")
        #expect(!roomNames(try await late.request("rooms")).contains("vault"), "nor in a new login's rooms")
        for (event, params) in [
            ("join", ["room": "vault"]), ("who", ["room": "vault"]), ("history", ["room": "vault"]), ("leave", ["room": "vault"]),
            ("send", ["room": "vault", "text": "hi"]), ("invite", ["room": "vault", "user": "late"]), ("kick", ["room": "vault", "user": "pia"]),
        ] as [(String, JSONObject)] {
            await expectError("room_not_found") { try await gil.request(event, params) }
        }
        await expectError("room_exists") { try await gil.request("create_room", ["room": "VAULT", "limit": .number("2")]) }
        let admin = try await server.client("root", admin: true)
        #expect(roomNames(try await admin.request("rooms")).contains("vault"), "admins see every room")
        try await pia.request("close_room", ["room": "vault"])
        #expect(try await unsolicited(gil).allSatisfy { $0.event != "room_closed" })
        await server.stop()
    }

    /// Membership is part of who may see a private room: its members hear that it closed, though
    /// the close takes them out of it.
    @Test func aPrivateRoomsMembersHearThatItClosed() async throws {
        let server = try await TestServer.start()
        let pia = try await server.account("pia")
        let gil = try await server.client("gil")
        let out = try await server.client("out")
        try await pia.request("create_room", ["room": "vault", "limit": .number("3"), "private": .bool(true)])
        try await pia.request("invite", ["room": "vault", "user": "gil"])
        try await gil.request("join", ["room": "vault"])
        try await pia.request("uninvite", ["room": "vault", "user": "gil"])
        try await pia.request("close_room", ["room": "vault"])
        let closed = try await gil.next("room_closed")
        #expect(closed["room"] == "vault" && closed["by"] == "pia")
        #expect(try await unsolicited(out).allSatisfy { $0.event != "room_closed" }, "no news to those who could not see it")
        await expectError("room_not_found") { try await gil.request("send", ["room": "vault", "text": "hi"]) }
        await server.stop()
    }

    @Test func anInviteShowsTheRoomAndLetsPastItsLimit() async throws {
        let server = try await TestServer.start()
        let pia = try await server.account("pia")
        let gil = try await server.client("gil")
        try await pia.request("create_room", ["room": "vault", "limit": .number("1"), "private": .bool(true)])
        try await pia.request("join", ["room": "vault"])
        await expectError("user_not_found") { try await pia.request("invite", ["room": "vault", "user": "nobody"]) }
        let invited = try await pia.request("invite", ["room": "vault", "user": "gil"])
        #expect(invited.event == "invited" && invited["user"] == "gil")
        let notice = try await gil.next("invited")
        #expect(notice["room"] == "vault" && notice["by"] == "pia")
        #expect(roomNames(try await gil.request("rooms")).contains("vault"))
        let joined = try await gil.request("join", ["room": "vault"])
        #expect(joined["room"]?.object?["count"] == .number("2"), "past the limit of 1")
        // A guest's invite lasts as long as its login: once gone, the room is gone for the name.
        try await gil.request("leave", ["room": "vault"])
        #expect(try await pia.request("uninvite", ["room": "vault", "user": "gil"]).event == "uninvited")
        await expectError("room_not_found") { try await gil.request("join", ["room": "vault"]) }
        await server.stop()
    }

    @Test func settingsChangeAndEveryoneWhoCanSeeHears() async throws {
        let server = try await TestServer.start()
        let pia = try await server.account("pia")
        let gil = try await server.client("gil")
        try await pia.request("create_room", ["room": "vault", "limit": .number("2"), "private": .bool(true)])
        await expectError("room_not_found") { try await gil.request("set_room", ["room": "vault", "limit": .number("5")]) }
        await expectError("invalid_params") { try await pia.request("set_room", ["room": "vault"]) }
        await expectError("invalid_limit") { try await pia.request("set_room", ["room": "vault", "limit": .number("0")]) }
        let opened = try await pia.request("set_room", ["room": "vault", "private": .bool(false)])
        #expect(opened.event == "room_updated" && opened["room"]?.object?["private"] == nil)
        #expect(try await gil.next("room_updated")["room"]?.object?["name"] == "vault")
        try await gil.request("join", ["room": "vault"])
        await expectError("forbidden") { try await gil.request("set_room", ["room": "vault", "limit": .number("9")]) }
        // A lower limit removes nobody; a closed door stays closed to a banned guest.
        #expect(try await pia.request("set_room", ["room": "vault", "limit": .number("1"), "private": .bool(true)])["room"]?.object?["count"] == .number("1"))
        try await pia.request("ban", ["room": "vault", "user": "gil"])
        await expectError("room_not_found") { try await gil.request("join", ["room": "vault"]) }
        await server.stop()
    }
}
