import ActorChatCore
import ActorChatWeb

extension DisconnectReason {
    /// An HTTP request was answered, and the connection closed after it.
    public static let httpServed = DisconnectReason(rawValue: "http_served")
    /// A WebSocket client broke the framing rules; it was sent a close with the code.
    public static let webSocketViolation = DisconnectReason(rawValue: "websocket_violation")
}

extension Session {
    /// Reads one request head (within the login timeout, at most `--max-http-head-bytes`) and
    /// answers it. Returns the bytes that followed the head when the request upgraded to WebSocket,
    /// and nil when the connection is done.
    func serveHTTP(first: [UInt8], chunks: inout AsyncStream<[UInt8]>.Iterator) async -> [UInt8]? {
        connection.setDeadlineNotice(Self.timeoutResponse)
        var parser = HTTPRequestParser(maxHeadBytes: services.configuration.maxHTTPHeadBytes)
        var chunk = first
        var outcome = parser.append(chunk)
        while case .needMore = outcome {
            connection.didConsume(chunk.count)
            guard let next = await chunks.next(isolation: #isolation) else { return nil }
            chunk = next
            outcome = parser.append(chunk)
        }
        switch outcome {
        case .needMore:
            return nil
        case .failure(let error):
            connection.didConsume(chunk.count)
            respond(HTTPResponse(error: error), to: nil)
            return nil
        case .request(let request, let rest):
            connection.didConsume(chunk.count - rest.count)
            let gateway = WebGateway(configuration: services.configuration)
            switch gateway.answer(request, peer: connection.peer, shuttingDown: services.isShuttingDown) {
            case .respond(let response):
                respond(response, to: request)
            case .metrics:
                respond(HTTPResponse(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(await services.metricsText().utf8)), to: request)
            case .upgrade(let response):
                connection.send(response)
                connection.upgradeToWebSocket()
                services.metrics.upgraded()
                services.log.log(.info, "websocket #\(connection.id)")
                return rest
            }
            return nil
        }
    }

    private func respond(_ response: HTTPResponse, to request: HTTPRequest?) {
        connection.clearDeadline()
        connection.send(response.encoded(includeBody: request?.method != "HEAD"))
        services.log.log(.info, "http \(request?.method ?? "-") \(request?.path.prefix(64) ?? "-") \(response.status.code) #\(connection.id)")
    }

    private static let timeoutResponse = HTTPResponse(.requestTimeout, text: "408 Request Timeout: the request head did not arrive in time").encoded()
}
