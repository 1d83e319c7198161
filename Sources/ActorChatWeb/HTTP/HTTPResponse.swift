/// A response, closed after it is sent. Every response carries the headers that keep a browser
/// strict: no inline script, no type sniffing, no referrer.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(_ status: HTTPStatus, contentType: String = "text/plain; charset=utf-8", body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.headers = [("Content-Type", contentType)] + headers
    }

    /// A plain-text response of one line.
    public init(_ status: HTTPStatus, text: String, headers: [(name: String, value: String)] = []) {
        self.init(status, body: Array((text + "\n").utf8), headers: headers)
    }

    public init(error: HTTPError) {
        self.init(
            error.status, text: "\(error.status.code) \(error.status.reason): \(error.detail)",
            headers: error.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
    }

    static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]

    /// The response's bytes; a HEAD request gets the head alone, with the length the body would have.
    public func encoded(includeBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(status.code) \(status.reason)\r\n"
        for (name, value) in headers + Self.securityHeaders {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }
}
