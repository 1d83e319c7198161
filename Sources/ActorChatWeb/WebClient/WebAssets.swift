/// The web client's files, embedded in the binary at build time: copying `actor-chat-server`
/// anywhere is enough to serve them.
public enum WebAssets {
    public struct Asset: Sendable {
        public let contentType: String
        public let bytes: [UInt8]
    }

    /// The files by request path; `/` is the page.
    public static let byPath: [String: Asset] = [
        "/": Asset(contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        "/index.html": Asset(contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        "/style.css": Asset(contentType: "text/css; charset=utf-8", bytes: PackageResources.style_css),
        "/app.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.app_js),
        "/connection.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.connection_js),
        "/commands.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.commands_js),
    ]
}
