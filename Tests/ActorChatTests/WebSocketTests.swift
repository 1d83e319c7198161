import Foundation
import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol
@testable import ActorChatWeb

/// The WebSocket door, frame by frame: written by hand, including every way to get it wrong.
@Suite struct WebSocketTests {
    @Test func aWebSocketUserAndATCPUserSeeTheSameMessagesInTheSameOrder() async throws {
        let server = try await TestServer.start { $0.unlimitedRate() }
        defer { Task { await server.stop() } }
        let browser = try await WebSocketTestClient.loggedIn("browser", port: server.port)
        browser.request("join", #"{"room":"lobby"}"#, id: 1)
        _ = try await browser.next(event: "joined")
        let terminal = try await server.client("terminal")
        try await terminal.request("join", ["room": "lobby"])
        _ = try await browser.next(event: "user_joined")
        for index in 0..<50 {
            if index % 2 == 0 {
                browser.request("send", #"{"room":"lobby","text":"w\#(index)"}"#, id: 100 + index)
            } else {
                terminal.send("send", ["room": "lobby", "text": .string("t\(index)")])
            }
        }
        var seenByBrowser: [String] = []
        while seenByBrowser.count < 50 {
            let message = try await browser.next(event: "message")
            seenByBrowser.append(message.params["text"]?.string ?? "")
        }
        var seenByTerminal: [String] = []
        while seenByTerminal.count < 50 {
            let message = try await terminal.next("message")
            seenByTerminal.append(message.params["text"]?.string ?? "")
        }
        #expect(seenByBrowser == seenByTerminal)
        #expect(Set(seenByBrowser).count == 50)
    }

    @Test func fragmentsAreReassembledWithAPingBetweenThem() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let (client, response) = try await WebSocketTestClient.open(port: server.port)
        #expect(response.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        #expect(!response.lowercased().contains("sec-websocket-extensions"), "no extension is offered")
        let login = Array(#"{"event":"login","params":{"name":"pieces"},"id":1}"#.utf8)
        client.send(WebSocketTestClient.frame(opcode: 0x1, payload: Array(login[0..<10]), fin: false))
        client.send(WebSocketTestClient.frame(opcode: 0x9, payload: Array("are you there".utf8)))
        client.send(WebSocketTestClient.frame(opcode: 0x0, payload: Array(login[10..<30]), fin: false))
        client.send(WebSocketTestClient.frame(opcode: 0x0, payload: Array(login[30...])))
        let pong = try await client.nextFrame()
        #expect(pong == .init(fin: true, opcode: 0xA, payload: Array("are you there".utf8)))
        let welcome = try await client.nextFrame()
        #expect(welcome?.envelope?.event == "welcome")
        // The client's close is answered with the same code, and the connection ends.
        client.send(WebSocketTestClient.frame(opcode: 0x8, payload: [0x03, 0xE8] + Array("bye".utf8)))
        #expect(try await client.closeCode() == 1000)
        #expect(try await client.nextFrame() == nil)
    }

    /// Each broken stream earns its close code, and the server stays up for everyone else.
    @Test(arguments: [
        ("unmasked", WebSocketTestClient.frame(opcode: 0x1, payload: Array("{}".utf8), masked: false), UInt16(1002)),
        ("binary", WebSocketTestClient.frame(opcode: 0x2, payload: [1, 2, 3]), UInt16(1003)),
        ("invalid UTF-8", WebSocketTestClient.frame(opcode: 0x1, payload: [0x22, 0xC3, 0x28, 0x22]), UInt16(1007)),
        ("overlong UTF-8", WebSocketTestClient.frame(opcode: 0x1, payload: [0xC0, 0xAF]), UInt16(1007)),
        ("reserved opcode", WebSocketTestClient.frame(opcode: 0x3, payload: []), UInt16(1002)),
        ("reserved bit", WebSocketTestClient.frame(opcode: 0x1, payload: Array("{}".utf8), rsv: 0x40), UInt16(1002)),
        ("continuation first", WebSocketTestClient.frame(opcode: 0x0, payload: Array("{}".utf8)), UInt16(1002)),
        ("fragmented ping", WebSocketTestClient.frame(opcode: 0x9, payload: [], fin: false), UInt16(1002)),
        ("long ping", WebSocketTestClient.frame(opcode: 0x9, payload: [UInt8](repeating: 0x61, count: 126)), UInt16(1002)),
        ("new message mid-message",
         WebSocketTestClient.frame(opcode: 0x1, payload: Array("{".utf8), fin: false) + WebSocketTestClient.frame(opcode: 0x1, payload: Array("}".utf8)),
         UInt16(1002)),
        ("bad close code", WebSocketTestClient.frame(opcode: 0x8, payload: [0x03, 0xED]), UInt16(1002)),
        ("too large before login", WebSocketTestClient.frame(opcode: 0x1, payload: [UInt8](repeating: 0x20, count: 5000)), UInt16(1009)),
        ("close mid-message",
         WebSocketTestClient.frame(opcode: 0x1, payload: Array("{".utf8), fin: false) + WebSocketTestClient.frame(opcode: 0x8, payload: [0x03, 0xE8]),
         UInt16(1000)),
    ])
    func violationsAreClosedWithTheirCode(name: String, bytes: [UInt8], code: UInt16) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let (client, _) = try await WebSocketTestClient.open(port: server.port)
        client.send(bytes)
        #expect(try await client.closeCode() == code, "\(name)")
        #expect(try await client.nextFrame() == nil, "\(name): the connection closes after the close frame")
        try await server.expectAlive()
    }

    @Test func aMessageOverTheLineLimitGetsFrameTooLargeThen1009() async throws {
        let server = try await TestServer.start { $0.maxLineBytes = 1000 }
        defer { Task { await server.stop() } }
        let client = try await WebSocketTestClient.loggedIn("wordy", port: server.port)
        client.send(WebSocketTestClient.frame(opcode: 0x1, payload: [UInt8](repeating: 0x20, count: 600), fin: false))
        client.send(WebSocketTestClient.frame(opcode: 0x0, payload: [UInt8](repeating: 0x20, count: 600)))
        let error = try await client.next(event: "error")
        #expect(error.params["code"]?.string == "frame_too_large")
        #expect(try await client.closeCode() == 1009)
    }

    @Test func shutdownClosesWith1001AfterTheNotice() async throws {
        let server = try await TestServer.start()
        let client = try await WebSocketTestClient.loggedIn("leaving", port: server.port)
        await server.stop()
        _ = try await client.next(event: "server_shutdown")
        #expect(try await client.closeCode() == 1001)
    }

    @Test func aFloodOverTheRateIsClosedWith1008() async throws {
        let server = try await TestServer.start { $0.rateBurst = 2; $0.ratePerSecond = 1 }
        defer { Task { await server.stop() } }
        let client = try await WebSocketTestClient.loggedIn("flood", port: server.port)
        let ping = WebSocketTestClient.frame(opcode: 0x1, payload: Array(#"{"event":"ping","params":{"pad":"\#(String(repeating: "x", count: 900))"}}"#.utf8))
        client.send(Array([[UInt8]](repeating: ping, count: 200).joined()))
        #expect(try await client.closeCode() == 1008)
    }

    @Test func anIdleClientIsPingedAndItsPongKeepsItConnected() async throws {
        // A long timeout after each ping, so a loaded machine cannot fail the test: without the pong
        // counting as activity, no second ping would come before the timeout's close.
        let server = try await TestServer.start { $0.idlePingSeconds = 0.3; $0.idleTimeoutSeconds = 20 }
        defer { Task { await server.stop() } }
        let client = try await WebSocketTestClient.loggedIn("dozing", port: server.port)
        for _ in 0..<3 {
            let ping = try await client.nextFrame()
            #expect(ping?.opcode == 0x9, "the idle ping is a WebSocket ping")
            client.send(WebSocketTestClient.frame(opcode: 0xA, payload: ping?.payload ?? []))
        }
        client.request("ping", id: 9)
        #expect(try await client.next(event: "pong").id == .number("9"))
    }

    @Test func aForeignOriginIsRefusedAndAnAllowedOneIsNot() async throws {
        let server = try await TestServer.start { $0.allowedOrigins = ["https://friends.example"] }
        defer { Task { await server.stop() } }
        let (_, foreign) = try await WebSocketTestClient.open(port: server.port, headers: ["Origin: https://evil.example"])
        #expect(foreign.hasPrefix("HTTP/1.1 403 "))
        let (_, own) = try await WebSocketTestClient.open(port: server.port, headers: ["Origin: http://127.0.0.1:\(server.port)"])
        #expect(own.hasPrefix("HTTP/1.1 101 "))
        let (_, friend) = try await WebSocketTestClient.open(port: server.port, headers: ["Origin: https://friends.example"])
        #expect(friend.hasPrefix("HTTP/1.1 101 "))
    }

    @Test func aWebSocketThatNeverLogsInIsTimedOutWithItsReason() async throws {
        let server = try await TestServer.start { $0.loginTimeoutSeconds = 0.3 }
        defer { Task { await server.stop() } }
        let (client, _) = try await WebSocketTestClient.open(port: server.port)
        let error = try await client.next(event: "error")
        #expect(error.params["code"]?.string == "timeout")
        #expect(try await client.closeCode() == 1008)
    }
}

extension WebSocketTests {
    /// Pings are answered, and count against the rate limit as requests do.
    @Test func aFloodOfPingsIsClosedWith1008() async throws {
        let server = try await TestServer.start { $0.rateBurst = 2; $0.ratePerSecond = 1 }
        defer { Task { await server.stop() } }
        let client = try await WebSocketTestClient.loggedIn("pinger", port: server.port)
        let ping = WebSocketTestClient.frame(opcode: 0x9, payload: [UInt8](repeating: 0x70, count: 125))
        client.send(Array([[UInt8]](repeating: ping, count: 1000).joined()))
        #expect(try await client.closeCode() == 1008)
    }
}

@Suite struct WebSocketDecoderTests {
    /// A message in thousands of one-byte fragments comes out whole, as one message.
    @Test func manySmallFragmentsMakeOneMessage() {
        var decoder = WebSocketDecoder(maxMessageBytes: 65536)
        let text = Array(String(repeating: "abcdefgh", count: 1250).utf8)
        var stream: [UInt8] = []
        for (index, byte) in text.enumerated() {
            stream += WebSocketTestClient.frame(opcode: index == 0 ? 0x1 : 0x0, payload: [byte], fin: index == text.count - 1)
        }
        decoder.append(stream)
        #expect(decoder.next() == .text(text))
        #expect(decoder.next() == nil)
    }
}
