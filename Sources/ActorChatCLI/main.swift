import Foundation

// The interactive client is being built under its own issue; until then, nc speaks the protocol.
FileHandle.standardError.write(Data("actor-chat-cli is not built yet: use `nc localhost 7777` and docs/PROTOCOL.md\n".utf8))
exit(64)
