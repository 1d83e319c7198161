// swift-tools-version:6.0
import PackageDescription

// The layers, lowest first; each module imports only modules below it (scripts/check-layers.sh
// checks this against the README's layout):
//   CSystem            the C shim: epoll, eventfd, accept4, thread names
//   ActorChatCore      system calls, the epoll transport, the sessions' executor, command-line parsing
//   ActorChatProtocol  the wire format: JSON, line framing, requests, events, error codes, names
//   ActorChat          rooms and the server: what an embedder of the server links
//   ActorChatClient    the client library and the terminal UI
//   ActorChatBench     the load generator (drives servers through the client)
//   actor-chat-server, actor-chat-cli: the executables
let package = Package(
    name: "ActorChat",
    products: [
        .library(name: "ActorChat", targets: ["ActorChat"]),
        .executable(name: "actor-chat-server", targets: ["ActorChatServer"]),
        .executable(name: "actor-chat-cli", targets: ["ActorChatCLI"]),
    ],
    targets: [
        .target(name: "CSystem"),
        .target(name: "ActorChatCore", dependencies: ["CSystem"]),
        .target(name: "ActorChatProtocol"),
        .target(name: "ActorChat", dependencies: ["ActorChatCore", "ActorChatProtocol"]),
        .target(name: "ActorChatClient", dependencies: ["ActorChatCore", "ActorChatProtocol"]),
        .target(name: "ActorChatBench", dependencies: ["ActorChatCore", "ActorChatProtocol", "ActorChatClient"]),
        .executableTarget(name: "ActorChatServer", dependencies: ["ActorChat", "ActorChatCore"], path: "Sources/actor-chat-server"),
        .executableTarget(
            name: "ActorChatCLI", dependencies: ["ActorChatClient", "ActorChatBench", "ActorChatCore"], path: "Sources/actor-chat-cli"),
        .testTarget(
            name: "ActorChatTests",
            dependencies: ["ActorChat", "ActorChatCore", "ActorChatProtocol", "ActorChatClient", "ActorChatBench"]),
    ],
    swiftLanguageModes: [.v6]
)
