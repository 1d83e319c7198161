/// A client frame: `{"event": NAME, "params": {...}, "id": number or string}`.
public struct ClientRequest: Sendable, Equatable {
    public var event: String
    public var params: JSONObject
    public var id: JSONValue?

    public init(event: String, params: JSONObject = [:], id: JSONValue? = nil) {
        self.event = event
        self.params = params
        self.id = id
    }

    /// Decodes one line. A failure carries the request's id when one could be read, so the error
    /// still reaches the request that caused it.
    public static func decode(_ line: ArraySlice<UInt8>) -> Result<ClientRequest, DecodeFailure> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            return .failure(DecodeFailure(error: .badFrame(error.description), id: nil))
        }
        guard case .object(let object) = value else {
            return .failure(DecodeFailure(error: .badFrame("a frame must be a JSON object"), id: nil))
        }
        let id = object["id"]
        switch id {
        case nil, .number?, .string?: break
        default: return .failure(DecodeFailure(error: .badFrame("'id' must be a number or a string"), id: nil))
        }
        guard let event = object["event"]?.string else {
            return .failure(DecodeFailure(error: .badFrame("'event' must be a string"), id: id))
        }
        let params: JSONObject
        switch object["params"] {
        case nil, .null?: params = [:]
        case .object(let value)?: params = value
        default: return .failure(DecodeFailure(error: .invalidParams("'params' must be an object"), id: id))
        }
        return .success(ClientRequest(event: event, params: params, id: id))
    }

    /// The frame as a line, ready to send.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("event")
        writer.write(event)
        writer.key("params")
        writer.write(.object(params))
        if let id {
            writer.key("id")
            writer.write(id)
        }
        writer.endObject()
        writer.endLine()
        return writer.bytes
    }

    public struct DecodeFailure: Error, Equatable {
        public let error: ChatError
        public let id: JSONValue?
    }
}
