@testable import ActorChatClient
@testable import ActorChatProtocol

/// A frame as the model compares it: object keys sorted, and the fields the protocol leaves open
/// reduced to whether they are well formed (`ts` a whole number, an error's `message` non-empty,
/// `logs` and `stats` any object).
func canonical(_ frame: ServerFrame) -> String {
    var params = frame.params
    if params["ts"] != nil { params["ts"] = params["ts"]?.integer.map { _ in .string("<ts>") } ?? .string("<bad ts>") }
    if frame.event == "history", case .array(let messages)? = params["messages"] {
        params["messages"] = .array(messages.map { message in
            guard case .object(var entry) = message else { return message }
            entry["ts"] = entry["ts"]?.integer.map { _ in .string("<ts>") } ?? .string("<bad ts>")
            return .object(entry)
        })
    }
    // A session token is random: whether there is one is what the model fixes.
    if frame.event == "welcome", params["session"]?.string != nil { params["session"] = .string("<session>") }
    if frame.event == "error" { params["message"] = (params["message"]?.string?.isEmpty == false) ? nil : .string("<no message>") }
    if frame.event == "logs" || frame.event == "stats" || frame.event == "help" { params = [:] }
    let id = frame.id.map { " id=\(canonical($0))" } ?? ""
    return "\(frame.event) \(canonical(.object(params)))\(id)"
}

private func canonical(_ value: JSONValue) -> String {
    switch value {
    case .null: "null"
    case .bool(let bool): String(bool)
    case .number(let literal): literal
    case .string(let string): "\"\(string)\""
    case .array(let items): "[" + items.map(canonical).joined(separator: ",") + "]"
    case .object(let object):
        "{" + object.members.sorted { $0.key < $1.key }.map { "\($0.key):\(canonical($0.value))" }.joined(separator: ",") + "}"
    }
}
