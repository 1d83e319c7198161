import ActorChatProtocol

/// Which frame a waiter takes. A value, not a closure: `FrameInbox` tests filters while it holds
/// its lock, and a value cannot call back into the inbox, where a closure could, and deadlock.
package struct FrameFilter: Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        case any
        /// The reply to the request with this id.
        case reply(to: JSONValue)
        /// A frame with no id (broadcasts and notices).
        case unsolicited
        case event(String)
    }

    package var kind: Kind
    /// Params the frame must carry, each with exactly this value.
    package var params: JSONObject

    package init(_ kind: Kind, params: JSONObject = [:]) {
        self.kind = kind
        self.params = params
    }

    package func matches(_ frame: ServerFrame) -> Bool {
        let kindMatches =
            switch kind {
            case .any: true
            case .reply(let id): frame.id == id
            case .unsolicited: frame.id == nil
            case .event(let event): frame.event == event
            }
        return kindMatches && params.members.allSatisfy { frame[$0.key] == $0.value }
    }

    package var description: String {
        let base =
            switch kind {
            case .any: "any frame"
            case .reply(let id): "the reply to request \(id)"
            case .unsolicited: "an event"
            case .event(let event): "'\(event)'"
            }
        guard !params.members.isEmpty else { return base }
        var writer = JSONWriter()
        writer.write(.object(params))
        return "\(base) with params \(String(decoding: writer.bytes, as: UTF8.self))"
    }
}
