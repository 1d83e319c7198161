import ActorChatCore
import ActorChatWeb

/// What an HTTP request on the chat port gets: the web client's files, `/healthz`, `/metrics`, or
/// the WebSocket upgrade at `/ws`. Every response but the upgrade closes the connection.
struct WebGateway: Sendable {
    let configuration: ServerConfiguration

    enum Answer {
        case respond(HTTPResponse)
        /// The 101 response: the connection speaks WebSocket from here on.
        case upgrade([UInt8])
        /// `/metrics`, allowed: the caller renders the figures.
        case metrics
    }

    /// An HTTP request line starts with an upper-case method; a request of the chat protocol with
    /// `{`, a blank, or (typed into nc) a lower-case word.
    static func looksLikeHTTP(_ first: [UInt8]) -> Bool {
        guard let byte = first.first else { return false }
        return byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }

    func answer(_ request: HTTPRequest, peer: SocketAddress, shuttingDown: Bool) -> Answer {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .respond(HTTPResponse(.methodNotAllowed, text: "405 Method Not Allowed: only GET and HEAD are served here", headers: [("Allow", "GET, HEAD")]))
        }
        switch request.path {
        case "/healthz":
            return .respond(shuttingDown ? HTTPResponse(.serviceUnavailable, text: "shutting down") : HTTPResponse(.ok, text: "ok"))
        case "/metrics":
            guard mayReadMetrics(request, peer: peer) else {
                return .respond(HTTPResponse(.forbidden, text: "403 Forbidden: /metrics is served to loopback, or with Authorization: Bearer and the metrics token"))
            }
            return .metrics
        case "/ws":
            if let origin = request.header("origin"), !isAllowed(origin: origin, host: request.header("host")) {
                return .respond(HTTPResponse(.forbidden, text: "403 Forbidden: origin \(origin) may not open a WebSocket here (see --allowed-origin)"))
            }
            switch WebSocketHandshake.response(to: request) {
            case .success(let response): return .upgrade(response)
            case .failure(let error): return .respond(HTTPResponse(error: error))
            }
        default:
            guard let asset = WebAssets.byPath[request.path] else {
                return .respond(HTTPResponse(.notFound, text: "404 Not Found: \(request.path.prefix(200))"))
            }
            return .respond(HTTPResponse(.ok, contentType: asset.contentType, body: asset.bytes, headers: [("Cache-Control", "no-cache")]))
        }
    }

    private func mayReadMetrics(_ request: HTTPRequest, peer: SocketAddress) -> Bool {
        if peer.isLoopback { return true }
        guard let token = configuration.metricsToken, let authorization = request.header("authorization") else { return false }
        return ConstantTime.equal(authorization, "Bearer " + token)
    }

    /// A browser's page may open a WebSocket when it came from this server (its origin names the
    /// host the request was sent to) or from an origin the operator allowed.
    func isAllowed(origin: String, host: String?) -> Bool {
        guard let normalized = Self.normalizedOrigin(origin) else { return false }
        if let host, let scheme = normalized.split(separator: ":").first, normalized == Self.normalizedOrigin("\(scheme)://\(host)") {
            return true
        }
        return configuration.allowedOrigins.contains(normalized)
    }

    /// `scheme://host[:port]` in lower case, with the scheme's default port dropped; nil for anything else.
    static func normalizedOrigin(_ origin: String) -> String? {
        let lowered = origin.lowercased()
        let scheme: String
        let defaultPort: String
        if lowered.hasPrefix("http://") {
            (scheme, defaultPort) = ("http", "80")
        } else if lowered.hasPrefix("https://") {
            (scheme, defaultPort) = ("https", "443")
        } else {
            return nil
        }
        var authority = String(lowered.dropFirst(scheme.count + 3))
        if authority.hasSuffix("/") { authority.removeLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), !authority.contains("?") else { return nil }
        if authority.hasSuffix(":" + defaultPort) { authority.removeLast(defaultPort.count + 1) }
        return "\(scheme)://\(authority)"
    }
}
