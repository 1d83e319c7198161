/// The rules for user and room names: ASCII letters, digits, `_ - .`; unique ignoring ASCII case.
public enum Names {
    public static let maxUserName = 32
    public static let maxRoomName = 64

    /// The name's key for uniqueness: ASCII-lowercased. Names are ASCII, so no look-alike can collide.
    public static func key(_ name: String) -> String {
        // Most names arrive lowercase already: then the name is its own key and nothing is allocated.
        var name = name
        guard name.withUTF8({ $0.contains { (0x41...0x5A).contains($0) } }) else { return name }
        return String(decoding: name.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Nil when valid, else why not.
    public static func problem(with name: String, maxLength: Int) -> String? {
        let utf8 = name.utf8
        if utf8.isEmpty { return "it is empty" }
        if utf8.count > maxLength { return "it is longer than \(maxLength) characters" }
        let allowed = utf8.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."): true
            default: false
            }
        }
        return allowed ? nil : "use only ASCII letters, digits, '_', '-' and '.'"
    }

    public static func validateUser(_ name: String) throws(ChatError) {
        if let problem = problem(with: name, maxLength: maxUserName) { throw .invalidName(problem) }
    }

    public static func validateRoom(_ name: String) throws(ChatError) {
        if let problem = problem(with: name, maxLength: maxRoomName) { throw .invalidRoom(problem) }
    }
}
