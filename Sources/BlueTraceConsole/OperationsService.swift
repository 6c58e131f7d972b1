import ServiceLifecycle
import Synchronization

/// The HTTP application as a service of the server's group, whose failure to listen is said in words.
struct OperationsService<Wrapped: Service>: Service {
    let application: Wrapped
    let host: String
    let port: Int
    let listening: ListeningFlag

    func run() async throws {
        do {
            try await application.run()
        } catch  where !listening.value.withLock({ $0 }) {
            throw OperationsBindError(host: host, port: port, underlying: error)
        }
    }
}

/// Whether the HTTP application has started listening (its failures before then are failures to listen).
final class ListeningFlag: Sendable {
    let value = Mutex(false)
}
