import ActorChatCore
import ActorChatProtocol
/// Typed access to a request's params; anything missing or of the wrong type is `invalid_params`.
extension JSONObject {
    func requiredString(_ key: String) throws(ChatError) -> String {
        guard let value = self[key] else { throw .invalidParams("'\(key)' is required") }
        guard let string = value.string else { throw .invalidParams("'\(key)' must be a string") }
        return string
    }

    func optionalString(_ key: String) throws(ChatError) -> String? {
        switch self[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw .invalidParams("'\(key)' must be a string")
        }
    }

    func optionalBool(_ key: String) throws(ChatError) -> Bool? {
        switch self[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw .invalidParams("'\(key)' must be true or false")
        }
    }

    func optionalInteger(_ key: String) throws(ChatError) -> Int? {
        switch self[key] {
        case nil, .null?: return nil
        case let value?:
            guard let number = value.integer else { throw .invalidParams("'\(key)' must be a whole number") }
            return number
        }
    }

    /// Message text: non-empty valid UTF-8 of at most `maxBytes`, no control characters but newline and tab.
    func messageText(maxBytes: Int) throws(ChatError) -> String {
        var text = try requiredString("text")
        guard !text.isEmpty else { throw .invalidParams("'text' is empty") }
        guard text.utf8.count <= maxBytes else { throw .invalidParams("'text' is longer than \(maxBytes) bytes") }
        // Every `send` passes here: a scan of the contiguous bytes is cheaper than iterating `String.UTF8View`.
        guard !text.withUTF8({ $0.contains { $0 < 0x20 && $0 != 0x0A && $0 != 0x09 } }) else {
            throw .invalidParams("'text' contains a control character (only newline and tab are allowed)")
        }
        return text
    }
}
