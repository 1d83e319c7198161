import COpenSSL
import Foundation

/// The server's half of the opening handshake (RFC 6455 section 4.2): checks the request and
/// answers 101 with the accept key. No extension or subprotocol is offered.
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The 101 response for `request`, or why it cannot be upgraded.
    public static func response(to request: HTTPRequest) -> Result<[UInt8], HTTPError> {
        guard request.method == "GET" else { return .failure(HTTPError(.methodNotAllowed, "a WebSocket opens with GET", headers: ["Allow": "GET"])) }
        guard request.version == "HTTP/1.1" else { return .failure(HTTPError(.badRequest, "a WebSocket needs HTTP/1.1")) }
        guard request.header("upgrade", contains: "websocket"), request.header("connection", contains: "upgrade") else {
            return .failure(HTTPError(.upgradeRequired, "this path speaks WebSocket only", headers: upgrade))
        }
        guard request.header("sec-websocket-version") == "13" else {
            return .failure(HTTPError(.upgradeRequired, "only WebSocket version 13 is spoken here", headers: upgrade))
        }
        guard let key = request.header("sec-websocket-key"), Data(base64Encoded: key)?.count == 16 else {
            return .failure(HTTPError(.badRequest, "Sec-WebSocket-Key must be 16 bytes in base64"))
        }
        let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(acceptKey(for: key))\r\n\r\n"
        return .success(Array(head.utf8))
    }

    /// What a 426 names (RFC 9110 section 15.5.22; RFC 6455 section 4.2.2 for the version).
    static let upgrade = ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"]

    /// base64(SHA-1(key + GUID)).
    public static func acceptKey(for key: String) -> String {
        var digest = [UInt8](repeating: 0, count: 20)
        let input = Array((key + guid).utf8)
        let done = input.withUnsafeBytes { copenssl_sha1($0.baseAddress, $0.count, &digest) }
        precondition(done == 1, "libcrypto's SHA-1 failed")
        return Data(digest).base64EncodedString()
    }
}
