/// Why a worker could not set its scenario up.
package enum BenchError: Error, Equatable, CustomStringConvertible {
    case loginsRefused(welcomed: Int, of: Int, errors: [String: Int])
    case joinsRefused(joined: Int, of: Int, errors: [String: Int])

    package var description: String {
        switch self {
        case .loginsRefused(let welcomed, let total, let errors):
            "only \(welcomed) of \(total) clients could log in; server errors: \(Self.list(errors))"
        case .joinsRefused(let joined, let total, let errors):
            "only \(joined) of \(total) clients could join; server errors: \(Self.list(errors))"
        }
    }

    private static func list(_ errors: [String: Int]) -> String {
        errors.map { "\($0.key) ×\($0.value)" }.sorted().joined(separator: ", ")
    }
}
