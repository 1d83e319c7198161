// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ActorChat",
    products: [
        .library(name: "ActorChat", targets: ["ActorChat"]),
        .executable(name: "actor-chat-server", targets: ["ActorChatServer"]),
        .executable(name: "actor-chat-cli", targets: ["ActorChatCLI"]),
    ],
    targets: [
        .target(name: "CSystem"),
        .target(name: "ActorChat", dependencies: ["CSystem"]),
        .executableTarget(name: "ActorChatServer", dependencies: ["ActorChat"]),
        .executableTarget(name: "ActorChatCLI", dependencies: ["ActorChat"]),
        .testTarget(name: "ActorChatTests", dependencies: ["ActorChat"]),
    ],
    swiftLanguageModes: [.v6]
)
