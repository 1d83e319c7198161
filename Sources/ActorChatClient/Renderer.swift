import ActorChatCore
import ActorChatProtocol
import Glibc

/// Turns server frames into lines a person reads: `HH:MM [room] name: text`, notices, DMs and
/// errors. Everything another user wrote is neutralised first, so nobody can paint, move the
/// cursor in, or clear someone else's terminal.
package struct Renderer: Sendable {
    /// Colour names with ANSI codes (stdout is a terminal and NO_COLOR is unset).
    package var color: Bool
    /// This user's name, to say "you".
    package var me: String

    package init(color: Bool, me: String) {
        self.color = color
        self.me = me
    }

    /// The line for `frame`, or nil for frames that need no line (replies the caller reports itself).
    package func render(_ frame: Envelope) -> String? {
        let p = frame.params
        func text(_ key: String) -> String { Self.neutralize(p[key]?.string ?? "") }
        let room = text("room")
        switch frame.event {
        case "message":
            // Replayed history is marked, so it is never taken for what is being said now.
            let earlier = p["replay"] == .bool(true) ? "(earlier) " : ""
            return "\(time(p["ts"])) [\(room)] \(earlier)\(name(text("from"))): \(indentContinuations(text("text")))"
        case "history_gap":
            let missed = (p["to"]?.integer ?? 0) - (p["from"]?.integer ?? 0) + 1
            return "\(time(nil)) [\(room)] * \(missed) earlier message\(missed == 1 ? "" : "s") not replayed; /history to page back"
        case "dm":
            let from = text("from"), to = text("to")
            let direction = from == me ? "you → \(name(to))" : "\(name(from)) → you"
            return "\(time(p["ts"])) [dm] \(direction): \(indentContinuations(text("text")))"
        case "user_joined":
            return "\(time(nil)) [\(room)] * \(name(text("user"))) joined"
        case "user_left":
            let reason = text("reason")
            let why = reason.isEmpty ? "left" : reason == "kicked" || reason == "banned" ? "was \(reason)" : "left (\(reason.replacingOccurrences(of: "_", with: " ")))"
            return "\(time(nil)) [\(room)] * \(name(text("user"))) \(why)"
        case "joined":
            let members = Self.members(p)
            let info = p["room"]?.object
            let joinedRoom = Self.neutralize(info?["name"]?.string ?? "")
            return "\(time(nil)) [\(joinedRoom)] * you joined (\(members.count)/\(info?["limit"]?.integer ?? 0)): \(members.joined(separator: ", "))"
        case "role_changed":
            let role = p["role"]?.string
            return "\(time(nil)) [\(room)] * \(name(text("user"))) \(role.map { "is now \(Self.neutralize($0))" } ?? "is no longer a moderator")"
        case "user_banned":
            return "\(time(nil)) [\(room)] * \(name(text("user"))) is banned"
        case "user_unbanned":
            return "\(time(nil)) [\(room)] * \(name(text("user"))) is no longer banned"
        case "invited" where p["by"] != nil:
            return "\(time(nil)) * \(name(text("by"))) invited you to '\(room)': /join \(room)"
        case "invited":
            return "\(time(nil)) [\(room)] * \(name(text("user"))) is invited"
        case "uninvited":
            return "\(time(nil)) [\(room)] * \(name(text("user"))) is no longer invited"
        case "room_updated":
            let info = p["room"]?.object
            let privacy = info?["private"] == .bool(true) ? ", private" : ""
            return "\(time(nil)) * room '\(Self.neutralize(info?["name"]?.string ?? ""))' now has limit \(info?["limit"]?.integer ?? 0)\(privacy)"
        case "left":
            return "\(time(nil)) [\(room)] * you left"
        case "kicked":
            return "\(time(nil)) [\(room)] * you were \(text("reason") == "banned" ? "banned" : "kicked") by \(name(text("by")))"
        case "room_closed":
            return "\(time(nil)) * room '\(room)' was closed by \(name(text("by")))"
        case "room_created":
            let info = p["room"]?.object
            return "\(time(nil)) * room '\(Self.neutralize(info?["name"]?.string ?? ""))' was created (limit \(info?["limit"]?.integer ?? 0))"
        case "server_shutdown":
            return "\(time(nil)) * the server is shutting down"
        case "error":
            return "! \(text("message"))"
        default:
            return nil
        }
    }

    /// Control characters (C0, DEL, C1) become visible `^X` / `\u{…}` forms and bidirectional
    /// overrides are dropped, so text can only ever print as text. Newlines and tabs stay.
    /// A `joined` or `members` frame's members, in join order, each with its role if it has one:
    /// `ann (owner)`, `bob (op)`.
    package static func members(_ params: JSONObject) -> [String] {
        let roles = params["roles"]?.object
        return (params["members"]?.array ?? []).compactMap(\.string).map { member in
            let role = roles?[member]?.string.map { " (\(neutralize($0)))" } ?? ""
            return neutralize(member) + role
        }
    }

    package static func neutralize(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: result.append("\n")
            case 0x09: result.append("    ")
            case 0x00..<0x20: result.append("^\(Character(Unicode.Scalar(scalar.value + 0x40)!))")
            case 0x7F: result.append("^?")
            case 0x80..<0xA0, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C:
                result.append("\\u{\(String(scalar.value, radix: 16))}")
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private func indentContinuations(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: "\n      ")
    }

    /// A name in a stable colour of its own; `me` in bold.
    private func name(_ name: String) -> String {
        guard color else { return name }
        if name == me { return "\u{1B}[1m\(name)\u{1B}[0m" }
        let palette = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96]
        let hash = name.utf8.reduce(UInt32(2166136261)) { ($0 ^ UInt32($1)) &* 16777619 }
        return "\u{1B}[\(palette[Int(hash % UInt32(palette.count))])m\(name)\u{1B}[0m"
    }

    /// Local HH:MM of a server timestamp (ms since 1970), or of now.
    private func time(_ timestamp: JSONValue?) -> String {
        var seconds = timestamp?.integer.map { time_t($0 / 1000) } ?? time_t(Glibc.time(nil))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format2: parts.tm_hour) + ":" + String(format2: parts.tm_min)
    }
}

extension String {
    init(format2 value: Int32) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }
}
