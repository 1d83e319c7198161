/// A JSON value written once and copied into lines as it is, such as the room list every `welcome`
/// carries until a room changes.
public struct EncodedJSON: Sendable, Equatable {
    package let bytes: [UInt8]

    package init(bytes: [UInt8]) {
        self.bytes = bytes
    }
}
