@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatProtocol

/// How the model reads names and params, as docs/PROTOCOL.md states them.
extension ProtocolModel {
    /// Names are unique ignoring ASCII case.
    static func key(_ name: String) -> String {
        String(decoding: name.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// 1 to `maxLength` ASCII letters, digits, `_`, `-` and `.`.
    static func isValid(_ name: String, maxLength: Int) -> Bool {
        (1...maxLength).contains(name.utf8.count)
            && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0 & 0xDF) || [0x5F, 0x2D, 0x2E].contains($0) }
    }

    func string(_ key: String, in params: JSONObject) throws(Failure) -> String {
        guard let value = params[key]?.string else { throw Failure("invalid_params") }
        return value
    }

    func optionalInteger(_ key: String, in params: JSONObject) throws(Failure) -> Int? {
        switch params[key] {
        case nil, .null?: return nil
        case let value?:
            guard let number = value.integer else { throw Failure("invalid_params") }
            return number
        }
    }

    func text(in params: JSONObject) throws(Failure) -> String {
        let text = try string("text", in: params)
        guard !text.isEmpty, text.utf8.count <= limits.maxTextBytes,
            !text.utf8.contains(where: { $0 < 0x20 && $0 != 0x0A && $0 != 0x09 })
        else { throw Failure("invalid_params") }
        return text
    }

    func room(_ name: String) throws(Failure) -> Room {
        guard let room = rooms[Self.key(name)] else { throw Failure("room_not_found") }
        return room
    }

    func optionalString(_ key: String, in params: JSONObject) throws(Failure) -> String? {
        switch params[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw Failure("invalid_params")
        }
    }

    func optionalBool(_ key: String, in params: JSONObject) throws(Failure) -> Bool? {
        switch params[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw Failure("invalid_params")
        }
    }
}
