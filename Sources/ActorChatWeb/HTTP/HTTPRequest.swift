/// A parsed HTTP/1.x request head. The server reads no bodies, so a head is all a request is.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The path of the target, without its query.
    public var path: String
    public var query: String?
    /// `HTTP/1.1` or `HTTP/1.0`.
    public var version: String
    /// Header fields in order, names lowercased.
    public var headers: [(name: String, value: String)]

    /// The first value of a header (`name` in lowercase).
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// True when a comma-separated header lists `token` (case-insensitive), as `Connection: Upgrade` does.
    public func header(_ name: String, contains token: String) -> Bool {
        headers.contains { field in
            field.name == name && field.value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == token }
        }
    }

    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.query == rhs.query && lhs.version == rhs.version
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var trimmed = self
        while let first = trimmed.first, first == " " || first == "\t" { trimmed.removeFirst() }
        while let last = trimmed.last, last == " " || last == "\t" { trimmed.removeLast() }
        return trimmed
    }
}
