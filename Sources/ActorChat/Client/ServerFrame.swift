/// A frame from the server as a client reads it.
public struct ServerFrame: Sendable, Equatable, CustomStringConvertible {
    public var event: String
    public var params: JSONObject
    public var id: JSONValue?

    public init(event: String, params: JSONObject = [:], id: JSONValue? = nil) {
        self.event = event
        self.params = params
        self.id = id
    }

    /// Decodes one server line; nil when it is not a valid server frame.
    public static func decode(_ line: ArraySlice<UInt8>) -> ServerFrame? {
        guard case .object(let object)? = try? JSONParser.parse(line), let event = object["event"]?.string else {
            return nil
        }
        return ServerFrame(event: event, params: object["params"]?.object ?? [:], id: object["id"])
    }

    public subscript(key: String) -> JSONValue? { params[key] }

    /// For `error` frames: the code.
    public var errorCode: String? { event == "error" ? params["code"]?.string : nil }

    public var description: String {
        var writer = JSONWriter()
        writer.write(.object(["event": .string(event), "params": .object(params)]))
        return String(decoding: writer.bytes, as: UTF8.self) + (id.map { " id \($0)" } ?? "")
    }
}
