/// The protocol's one frame shape, both ways: `{"event": NAME, "params": {...}, "id": number or string}`.
public struct Envelope: Sendable, Equatable, CustomStringConvertible {
    public var event: String
    public var params: JSONObject
    public var id: JSONValue?

    public init(event: String, params: JSONObject = [:], id: JSONValue? = nil) {
        self.event = event
        self.params = params
        self.id = id
    }

    /// Decodes one line strictly. A failure carries the frame's id when one could be read, so the
    /// error still reaches the request that caused it.
    public static func decode(_ line: ArraySlice<UInt8>) -> Result<Envelope, DecodeFailure> {
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
        return .success(Envelope(event: event, params: params, id: id))
    }

    /// The frame as a line, ready to send.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.envelope(event: event, id: id) { writer in
            for member in params.members {
                writer.key(member.key)
                writer.write(member.value)
            }
        }
        return writer.bytes
    }

    public subscript(key: String) -> JSONValue? { params[key] }

    /// For `error` frames: the code.
    public var errorCode: String? { event == "error" ? params["code"]?.string : nil }

    public var description: String { String(decoding: encoded().dropLast(), as: UTF8.self) }

    public struct DecodeFailure: Error, Equatable {
        public let error: ChatError
        public let id: JSONValue?
    }
}

/// What a client sends.
public typealias ClientRequest = Envelope
/// What a client receives.
public typealias ServerFrame = Envelope

extension JSONWriter {
    /// Writes one whole frame line: the envelope around `params`, which writes the members of the params object.
    mutating func envelope(event: String, id: JSONValue?, params: (inout JSONWriter) -> Void) {
        beginObject()
        key(literal: "event")
        write(event)
        key(literal: "params")
        beginObject()
        params(&self)
        endObject()
        if let id {
            key(literal: "id")
            write(id)
        }
        endObject()
        endLine()
    }
}
