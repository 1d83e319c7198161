import COpenSSL

/// A login session's bearer token: 256 bits from the OS's secure generator (`SystemRandomNumberGenerator`
/// reads getrandom), sent to the client once, and kept by the server only as its SHA-256.
enum SessionToken {
    /// A new token: 32 random bytes as 64 hex digits.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// What the store keeps for `token`: its SHA-256, in hex. A stolen store gives no usable token.
    static func digest(_ token: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(token.utf8)
        let done = bytes.withUnsafeBytes { copenssl_sha256($0.baseAddress, $0.count, &digest) }
        precondition(done == 1, "libcrypto's SHA-256 failed")
        return hex(digest)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
