import Foundation
import Testing
@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatWeb

/// Sends raw bytes to the chat port and returns everything the server writes until it closes.
func httpExchange(port: Int, _ request: String, within timeout: Duration = .seconds(10)) async throws -> String {
    let connection = try await EventLoop.shared.connect(to: try SocketAddress.resolve(host: "127.0.0.1", port: port)[0])
    connection.send(Array(request.utf8))
    return try await withDeadline(timeout, waitingFor: "the server to answer and close") {
        var received: [UInt8] = []
        for await chunk in connection.inbound {
            received += chunk
            connection.didConsume(chunk.count)
        }
        return String(decoding: received, as: UTF8.self)
    }
}

@Suite struct HTTPRequestParserTests {
    func parse(_ text: String) -> HTTPRequestParser.Outcome {
        var parser = HTTPRequestParser(maxHeadBytes: 8192)
        return parser.append(Array(text.utf8))
    }

    @Test func aGoodHeadParsesWithWhatFollowsIt() {
        guard case .request(let request, let rest) = parse("GET /ws?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade:  websocket \r\nConnection: keep-alive, Upgrade\r\n\r\nFRAME") else {
            Issue.record("not parsed")
            return
        }
        #expect(request.method == "GET" && request.path == "/ws" && request.query == "x=1")
        #expect(request.header("upgrade") == "websocket")
        #expect(request.header("connection", contains: "upgrade"))
        #expect(rest == Array("FRAME".utf8))
    }

    @Test func aHeadInPiecesWaitsForItsEnd() {
        var parser = HTTPRequestParser(maxHeadBytes: 8192)
        for byte in "GET / HTTP/1.1\r\nHost: a\r\n\r".utf8 { #expect(parser.append([byte]) == .needMore) }
        guard case .request = parser.append(Array("\n".utf8)) else {
            Issue.record("the last byte did not complete the head")
            return
        }
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: \u{7F}\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nBad Name: x\r\nHost: a\r\n\r\n", 400),
    ])
    func malformedHeadsAreRefused(head: String, status: Int) {
        guard case .failure(let error) = parse(head) else {
            Issue.record("accepted: \(head.debugDescription)")
            return
        }
        #expect(error.status.code == status, "\(head.debugDescription): \(error.detail)")
    }

    @Test func aHeadOverTheLimitIs431EvenBeforeItEnds() {
        var parser = HTTPRequestParser(maxHeadBytes: 300)
        let outcome = parser.append(Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 400)).utf8))
        #expect(outcome == .failure(HTTPError(.headersTooLarge, "the request head is over 300 bytes")))
    }
}

@Suite struct WebGatewayTests {
    let gateway: WebGateway = {
        var configuration = ServerConfiguration()
        configuration.metricsToken = "scrape"
        configuration.allowedOrigins = ["https://chat.example.org"]
        return WebGateway(configuration: configuration)
    }()
    let loopback = try! SocketAddress.resolve(host: "127.0.0.1", port: 1)[0]
    let remote = try! SocketAddress.resolve(host: "10.1.2.3", port: 1)[0]

    func request(_ path: String, _ headers: [(String, String)] = []) -> HTTPRequest {
        HTTPRequest(method: "GET", path: path, query: nil, version: "HTTP/1.1", headers: [("host", "chat.local:7777")] + headers)
    }

    func status(_ answer: WebGateway.Answer) -> Int {
        switch answer {
        case .respond(let response): response.status.code
        case .upgrade: 101
        case .metrics: 200
        }
    }

    @Test func healthIs503OnceShutdownHasBegun() {
        #expect(status(gateway.answer(request("/healthz"), peer: remote, shuttingDown: false)) == 200)
        #expect(status(gateway.answer(request("/healthz"), peer: remote, shuttingDown: true)) == 503)
    }

    @Test func metricsAreForLoopbackOrTheBearerOfTheToken() {
        #expect(status(gateway.answer(request("/metrics"), peer: loopback, shuttingDown: false)) == 200)
        #expect(status(gateway.answer(request("/metrics"), peer: remote, shuttingDown: false)) == 403)
        #expect(status(gateway.answer(request("/metrics", [("authorization", "Bearer wrong")]), peer: remote, shuttingDown: false)) == 403)
        #expect(status(gateway.answer(request("/metrics", [("authorization", "Bearer scrape")]), peer: remote, shuttingDown: false)) == 200)
    }

    @Test func originsAreTheServersOwnOrAllowed() {
        #expect(gateway.isAllowed(origin: "http://chat.local:7777", host: "chat.local:7777"))
        #expect(gateway.isAllowed(origin: "HTTP://Chat.Local:7777", host: "chat.local:7777"))
        #expect(gateway.isAllowed(origin: "https://chat.local", host: "chat.local:443"))
        #expect(!gateway.isAllowed(origin: "http://evil.example", host: "chat.local:7777"))
        #expect(!gateway.isAllowed(origin: "http://chat.local:7778", host: "chat.local:7777"))
        #expect(!gateway.isAllowed(origin: "null", host: "chat.local:7777"))
        #expect(gateway.isAllowed(origin: "https://chat.example.org", host: "chat.local:7777"))
        #expect(WebGateway.normalizedOrigin("https://chat.example.org:443/") == "https://chat.example.org")
        #expect(WebGateway.normalizedOrigin("ftp://x") == nil)
    }

    @Test func theHandshakeKeyIsRFC6455s() {
        #expect(WebSocketHandshake.acceptKey(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}

@Suite struct HTTPServingTests {
    @Test func thePageComesWithStrictHeadersAndHEADGetsNoBody() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let page = try await httpExchange(port: server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(page.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(page.contains("Content-Security-Policy: default-src 'self'"))
        #expect(page.contains("X-Content-Type-Options: nosniff\r\n"))
        #expect(page.contains("Referrer-Policy: no-referrer\r\n"))
        #expect(page.contains("<script type=\"module\" src=\"/app.js\"></script>"))
        let head = try await httpExchange(port: server.port, "HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.contains("Content-Type: text/javascript"))
        #expect(head.hasSuffix("\r\n\r\n"), "HEAD sends no body")
        let total = WebAssets.byPath.filter { $0.key != "/" && $0.key != "/index.html" }.values.reduce(WebAssets.byPath["/"]!.bytes.count) { $0 + $1.bytes.count }
        #expect(total < 60_000, "the web client is \(total) bytes")
    }

    @Test func badRequestsGetA4xxAndAClose() async throws {
        let server = try await TestServer.start { $0.maxHTTPHeadBytes = 1024 }
        defer { Task { await server.stop() } }
        #expect(try await httpExchange(port: server.port, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        #expect(try await httpExchange(port: server.port, "POST / HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 405 "))
        #expect(try await httpExchange(port: server.port, "GET / HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        #expect(try await httpExchange(port: server.port, "GET / HTTP/1.1\r\nX: \(String(repeating: "y", count: 2000))").hasPrefix("HTTP/1.1 431 "))
        let upgradeRequired = try await httpExchange(port: server.port, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(upgradeRequired.hasPrefix("HTTP/1.1 426 "))
        #expect(upgradeRequired.contains("\r\nUpgrade: websocket\r\n") && upgradeRequired.contains("\r\nSec-WebSocket-Version: 13\r\n"))
        #expect(try await httpExchange(port: server.port, "HELP me\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        // The JSON-lines door is as it was, beside the HTTP one.
        let client = try await server.client("afterhttp")
        try await client.request("ping")
    }

    @Test func aHeadThatDoesNotArriveInTimeGets408() async throws {
        let server = try await TestServer.start { $0.loginTimeoutSeconds = 0.3 }
        defer { Task { await server.stop() } }
        let answer = try await httpExchange(port: server.port, "GET / HTTP/1.1\r\nHost: x\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }

    @Test func healthAndMetricsAnswerOnTheChatPort() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let talker = try await server.client("metered")
        try await talker.request("join", ["room": "lobby"])
        try await talker.request("send", ["room": "lobby", "text": "count me"])
        await expectError("room_not_found") { try await talker.request("join", ["room": "nowhere"]) }
        #expect(try await httpExchange(port: server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").hasSuffix("\r\n\r\nok\n"))
        let metrics = try await httpExchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(metrics.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(metrics.contains("\nactorchat_messages_total 1\n"))
        #expect(metrics.contains("\nactorchat_users 1\n"))
        #expect(metrics.contains("\nactorchat_connections{transport=\"tcp\"} 1\n"))
        #expect(metrics.contains("\nactorchat_errors_total{code=\"room_not_found\"} 1\n"))
        #expect(metrics.contains("# TYPE actorchat_broadcast_seconds histogram"))
    }
}

extension HTTPRequestParserTests {
    /// Found by the fuzzer: an empty read after a partial head once made an empty range and trapped.
    @Test func anEmptyReadAfterAPartialHeadIsHarmless() {
        var parser = HTTPRequestParser(maxHeadBytes: 8192)
        #expect(parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\n".utf8)) == .needMore)
        #expect(parser.append([]) == .needMore)
    }
}

extension HTTPServingTests {
    /// A connection still sending its request head when the server stops is closed, not sent the
    /// chat protocol's `server_shutdown` line.
    @Test func shutdownSendsNoJSONLineToARequestInProgress() async throws {
        let server = try await TestServer.start()
        let connection = try await EventLoop.shared.connect(to: try SocketAddress.resolve(host: "127.0.0.1", port: server.port)[0])
        connection.send(Array("GET / HTTP/1.1\r\n".utf8))
        // The server has taken it for HTTP once a second connection's request is answered after it.
        _ = try await httpExchange(port: server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await server.stop()
        let received = try await withDeadline(.seconds(10), waitingFor: "the close") {
            var bytes: [UInt8] = []
            for await chunk in connection.inbound {
                bytes += chunk
                connection.didConsume(chunk.count)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(!received.contains("server_shutdown"), "got \(received.debugDescription)")
    }

    /// The fan-out histogram counts broadcasts once the loop has written them (published with the
    /// loop's sweep, four times a second).
    @Test func broadcastsAreTimedInTheMetrics() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let members = try await server.members(["timed1", "timed2"], in: "lobby")
        try await members[0].request("send", ["room": "lobby", "text": "tick"])
        _ = try await members[1].next("message")
        let counted = try await withDeadline(.seconds(10), waitingFor: "the histogram to count the broadcast") {
            while true {
                let metrics = try await httpExchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                let line = metrics.split(separator: "\n").first { $0.hasPrefix("actorchat_broadcast_seconds_count ") }
                if let count = line.flatMap({ Int($0.split(separator: " ")[1]) }), count > 0 { return count }
                await Task.yield()
            }
        }
        #expect(counted >= 1)
    }
}
