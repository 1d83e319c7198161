/// Reads one request head, strictly: CRLF line ends, a request line of three parts, token header
/// names, no folded lines, visible ASCII only, no body. Anything else is a 4xx, never a guess.
public struct HTTPRequestParser: Sendable {
    /// The largest head read; past it the request is refused with 431.
    public let maxHeadBytes: Int
    private var buffer: [UInt8] = []
    /// Where the search for the head's end resumes.
    private var scanned = 0

    public init(maxHeadBytes: Int = 8192) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// What the bytes so far amount to.
    public enum Outcome: Equatable, Sendable {
        /// A whole head; `rest` is what came after it (a WebSocket client's first frames).
        case request(HTTPRequest, rest: [UInt8])
        case needMore
        case failure(HTTPError)
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) -> Outcome {
        buffer.append(contentsOf: bytes)
        let terminator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        let from = max(0, scanned - 3)
        var end: Int?
        if buffer.count - from >= 4 {
            for index in from...(buffer.count - 4) where buffer[index] == 0x0D && buffer[index..<(index + 4)].elementsEqual(terminator) {
                end = index
                break
            }
        }
        scanned = buffer.count
        guard let end else {
            return buffer.count > maxHeadBytes ? .failure(HTTPError(.headersTooLarge, "the request head is over \(maxHeadBytes) bytes")) : .needMore
        }
        guard end + 4 <= maxHeadBytes else { return .failure(HTTPError(.headersTooLarge, "the request head is over \(maxHeadBytes) bytes")) }
        switch Self.parse(head: buffer[..<end]) {
        case .success(let request): return .request(request, rest: Array(buffer[(end + 4)...]))
        case .failure(let error): return .failure(error)
        }
    }

    /// Parses a head without its final empty line.
    static func parse(head: ArraySlice<UInt8>) -> Result<HTTPRequest, HTTPError> {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            let byte = head[index]
            if byte == 0x0D {
                guard index + 1 < head.endIndex, head[index + 1] == 0x0A else { return .failure(HTTPError(.badRequest, "a bare CR in the head")) }
                lines.append(head[start..<index])
                index += 2
                start = index
                continue
            }
            if byte == 0x0A { return .failure(HTTPError(.badRequest, "lines must end with CRLF")) }
            if byte != 0x09 && (byte < 0x20 || byte > 0x7E) { return .failure(HTTPError(.badRequest, "the head holds a byte that is not visible ASCII")) }
            index += 1
        }
        lines.append(head[start..<head.endIndex])
        let requestLine = String(decoding: lines[0], as: UTF8.self)
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(\.isTokenCharacter) else {
            return .failure(HTTPError(.badRequest, "the request line is not METHOD TARGET VERSION"))
        }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return version.hasPrefix("HTTP/") ? .failure(HTTPError(.versionNotSupported, "only HTTP/1.1 and HTTP/1.0 are spoken here"))
                : .failure(HTTPError(.badRequest, "the request line is not METHOD TARGET VERSION"))
        }
        let target = parts[1]
        guard target.first == "/" else { return .failure(HTTPError(.badRequest, "the target must be a path")) }
        let pathAndQuery = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { return .failure(HTTPError(.badRequest, "a header line without a colon")) }
            let name = text[..<colon]
            guard !name.isEmpty, name.allSatisfy(\.isTokenCharacter) else {
                return .failure(HTTPError(.badRequest, "a header name must be a token (no spaces, no folded lines)"))
            }
            headers.append((name.lowercased(), String(text[text.index(after: colon)...].trimmingSpaces())))
        }
        let request = HTTPRequest(
            method: String(parts[0]), path: String(pathAndQuery[0]), query: pathAndQuery.count > 1 ? String(pathAndQuery[1]) : nil,
            version: version, headers: headers)
        if version == "HTTP/1.1" && headers.filter({ $0.name == "host" }).count != 1 {
            return .failure(HTTPError(.badRequest, "an HTTP/1.1 request needs exactly one Host header"))
        }
        let lengths = headers.filter { $0.name == "content-length" }
        if request.header("transfer-encoding") != nil || lengths.count > 1 || lengths.contains(where: { $0.value != "0" }) {
            return .failure(HTTPError(.badRequest, "requests here carry no body"))
        }
        return .success(request)
    }
}

extension Character {
    /// RFC 9110's tchar.
    var isTokenCharacter: Bool {
        guard let ascii = asciiValue else { return false }
        switch ascii {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(ascii)
        }
    }
}
