import BlueTraceServer
import Logging
import ServiceLifecycle

/// The protocol stub as a server of its own, for measuring the transport from another process.
public enum StubServer {
    /// Serves canned replies on `host`:`port` until SIGINT or SIGTERM.
    public static func run(host: String, port: Int, logger: Logger) async throws {
        var limits = ConnectionLimits()
        limits.connectionsPerSecondPerAddress = 1_000_000
        let server = BlueTraceServer(
            configuration: ServerConfiguration(host: host, port: port, blockDuration: 60, limits: limits),
            responder: StubResponder(), logger: logger)
        try await ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }
}
