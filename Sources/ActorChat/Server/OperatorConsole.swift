import ActorChatCore
import ActorChatProtocol
/// The operator's commands on the server's terminal: `/rooms`, `/who`, `/create`, `/close`,
/// `/logs`, `/quit`, `/help`. `execute` returns what to print, so it is tested without a terminal.
public struct OperatorConsole: Sendable {
    public enum Outcome: Equatable, Sendable {
        case output(String)
        case quit
    }

    let services: ServerServices

    public init(services: ServerServices) {
        self.services = services
    }

    public static let help = """
        /rooms               list rooms (name, members/limit)
        /who ROOM            list a room's members
        /create ROOM LIMIT   create a room
        /close ROOM          close a room (its members are removed)
        /logs [N]            show the last N log lines (default 20)
        /quit                shut the server down
        /help                show this help
        """

    public func execute(_ line: String) async -> Outcome {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { return .output("") }
        let rooms = services.rooms
        do throws(ChatError) {
            switch (command, words.count) {
            case ("/rooms", 1):
                let list = await rooms.roomList()
                return .output(list.isEmpty ? "no rooms" : list.map { "\($0.name) \($0.count)/\($0.limit)" }.joined(separator: "\n"))
            case ("/who", 2):
                guard case .members(let room, let limit, let encoded, _) = try await rooms.members(of: words[1]) else { return .output("") }
                let members = ((try? JSONParser.parse(encoded.bytes))?.array ?? []).compactMap(\.string)
                return .output("\(room) (\(members.count)/\(limit)): \(members.joined(separator: ", "))")
            case ("/create", 3):
                guard let limit = Int(words[2]) else { return .output("usage: /create ROOM LIMIT (LIMIT is a whole number)") }
                try await rooms.createRoom(name: words[1], limit: limit, by: nil)
                services.log.log(.info, "create \(words[1]) limit \(limit) by operator")
                return .output("created \(words[1]) (limit \(limit))")
            case ("/close", 2):
                try await rooms.closeRoom(words[1], by: nil)
                services.log.log(.info, "close \(words[1]) by operator")
                return .output("closed \(words[1])")
            case ("/logs", 1), ("/logs", 2):
                let count = words.count == 2 ? Int(words[1]) ?? 20 : 20
                return .output(services.log.lines(limit: count).joined(separator: "\n"))
            case ("/quit", 1):
                return .quit
            case ("/help", _):
                return .output(Self.help)
            default:
                return .output("unknown command '\(line)'; /help lists the commands")
            }
        } catch {
            return .output("error: \(error.message)")
        }
    }
}
