// swift-tools-version:6.0
import PackageDescription

// Each module imports only modules below it. The README's Layout table says what each may import,
// and scripts/check-layers.sh checks these targets and every import against it.
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
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "ActorChatStore", dependencies: ["CSQLite", "ActorChatCore"]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "ActorChatWeb", dependencies: ["ActorChatCore", "COpenSSL"],
            resources: ["index.html", "style.css", "app.js", "connection.js", "commands.js"].map { .embedInCode("WebClient/\($0)") }),
        .target(name: "ActorChat", dependencies: ["ActorChatCore", "ActorChatProtocol", "ActorChatStore", "ActorChatWeb", "CCrypt", "COpenSSL"]),
        .target(name: "ActorChatClient", dependencies: ["ActorChatCore", "ActorChatProtocol"]),
        .target(name: "ActorChatBench", dependencies: ["ActorChatCore", "ActorChatProtocol", "ActorChatClient"]),
        .executableTarget(
            name: "ActorChatServer", dependencies: ["ActorChat", "ActorChatCore", "ActorChatStore"], path: "Sources/actor-chat-server"),
        .executableTarget(
            name: "ActorChatCLI", dependencies: ["ActorChatClient", "ActorChatBench", "ActorChatCore"], path: "Sources/actor-chat-cli"),
        .testTarget(
            name: "ActorChatTests",
            dependencies: ["ActorChat", "ActorChatCore", "ActorChatProtocol", "ActorChatStore", "ActorChatWeb", "ActorChatClient", "ActorChatBench", "CSystem"]),
    ],
    swiftLanguageModes: [.v6]
)
