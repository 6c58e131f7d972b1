import ArgumentParser
import BlueTraceAuthority
import BlueTraceClient
import BlueTraceConsole
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceWire
import Foundation
import Logging
import ServiceLifecycle

/// The `bluetrace` command: server, client and demo of the BlueTrace contact-tracing simulator.
public struct BlueTraceCommand: AsyncParsableCommand {
    /// Parses the process arguments and runs the chosen subcommand, exiting with its status once what it printed
    /// has reached standard output.
    public static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            TerminalWriter.standardOutput.flush()
        } catch {
            TerminalWriter.standardOutput.flush()
            exit(withError: error)
        }
    }

    public static let configuration = CommandConfiguration(
        commandName: "bluetrace",
        abstract: "A BlueTrace (TraceTogether / COVIDSafe) contact-tracing simulator.",
        subcommands: [
            ServerCommand.self, ClientCommand.self, DemoCommand.self, SimulateCommand.self, BenchCommand.self,
            TraceBenchCommand.self, StubServerCommand.self,
            TraceCommand.self, AuthorityCommand.self, AuditCommand.self, KeysCommand.self, MigrateCommand.self,
            OfficialsCommand.self,
            CertsCommand.self,
        ]
    )

    public init() {}
}

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Diagnostics on standard error at this level and above (trace, debug, info, notice, warning, error).")
    var logLevel: Logger.Level = .warning
}

/// `bluetrace server <server_port> <block_duration>`.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the health-authority server.",
        discussion: """
            Authenticates clients from the credentials file, issues TempIDs (appended to the TempID file) and \
            traces uploaded contact logs. Stop it with Ctrl-C.
            """
    )

    @Argument(help: "The TCP port to listen on.")
    var serverPort: Int

    @Argument(help: "Seconds a user stays blocked after 3 failed logins.")
    var blockDuration: Int64

    @Option(help: "The address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "The credentials file: one `username password` per line.")
    var credentials = "credentials.txt"

    @Option(name: .customLong("tempids"), help: "The TempID file, read at start and appended to.")
    var tempIDs = "tempIDs.txt"

    @Option(name: .customLong("tempid-lifetime"), help: "Seconds a TempID is valid.")
    var tempIDLifetime: Int64 = 900

    @Option(
        help: """
            Where accounts, TempIDs and uploads live: a SQLite file, :memory: (keeps nothing, for benchmarks), or \
            postgres://user:password@host:port/database for several servers sharing one PostgreSQL database \
            (default: $BLUETRACE_DATABASE, else bluetrace.sqlite).
            """)
    var database = ProcessInfo.processInfo.environment["BLUETRACE_DATABASE"] ?? "bluetrace.sqlite"

    @Option(
        name: .customLong("tempid-scheme"),
        help: "decimal: the assignment's 20-digit TempIDs; sealed: OpenTrace-style encrypted TempIDs, in batches.")
    var tempIDScheme: TempIDScheme = .decimal

    @Option(help: "The server key file (created on first start, owner-only), for sealed TempIDs and upload codes.")
    var keyFile = "bluetrace-keys.json"

    @Flag(
        help: """
            Every upload needs a one-time code from a health official (bluetrace authority issue-code); not the \
            assignment's behaviour.
            """)
    var requireUploadCode = false

    @Flag(
        help: """
            Send an exposure notice to every close contact of a traced upload: at once if logged in, else at the             next login; not the assignment's behaviour.
            """)
    var exposureNotices = false

    @Option(help: "Logged encounters that make a traced person a close contact, for --exposure-notices.")
    var closeContactEncounters = 1

    @Option(help: "How many sealed TempIDs one download returns, back to back (OpenTrace: 100).")
    var sealedBatchSize = 100

    @Option(help: "Days uploads, encounters and TempID mappings are kept.")
    var retentionDays = 21

    @Option(help: "scrypt cost of new password hashes, as log2 of the rounds (10 is fast, 15 the default).")
    var passwordCost = PasswordHasher.Parameters.standard.logRounds

    @Option(help: "Largest frame accepted, in bytes.")
    var maxFrameSize = Framing.defaultMaximumFrameSize

    @Option(help: "Most entries one upload may hold.")
    var maxUploadEntries = ConnectionLimits().maximumUploadEntries

    @Option(help: "Most connections open at once.")
    var maxConnections = ConnectionLimits().maximumConnections

    @Option(help: "Most new connections per second from one address.")
    var connectionsPerSecond = ConnectionLimits().connectionsPerSecondPerAddress

    @Option(help: "Seconds a connection may take to log in.")
    var loginDeadline = ConnectionLimits().loginDeadline

    @Option(help: "Seconds a logged-in session may stay silent.")
    var idleTimeout = ConnectionLimits().idleTimeout

    @Option(
        help: """
            Serve /metrics, /health, /ready and the officials' console over HTTP on this port (off by default; \
            0 picks a free port).
            """)
    var httpPort: Int?

    @Option(help: "The address the HTTP console listens on (loopback unless told otherwise).")
    var httpHost = "127.0.0.1"
    @OptionGroup var tls: ServerTLSOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if let httpPort, !(0...65_535).contains(httpPort) {
            throw ValidationError("--http-port must be a port number from 0 to 65535, not \(httpPort).")
        }
        guard (0...65_535).contains(serverPort) else {
            throw ValidationError("server_port must be a port number from 0 to 65535, not \(serverPort).")
        }
        guard blockDuration >= 0 else {
            throw ValidationError("block_duration must be a number of seconds, 0 or more, not \(blockDuration).")
        }
        guard tempIDLifetime >= 1 else {
            throw ValidationError("--tempid-lifetime must be at least 1 second.")
        }
        guard (1...1000).contains(sealedBatchSize) else {
            throw ValidationError("--sealed-batch-size must be from 1 to 1000.")
        }
        guard closeContactEncounters >= 1 else {
            throw ValidationError("--close-contact-encounters must be at least 1 (encounters logged with the person).")
        }
        guard retentionDays >= 1 else {
            throw ValidationError("--retention-days must be at least 1.")
        }
        guard maxFrameSize >= 1024, maxUploadEntries >= 1, maxConnections >= 1, connectionsPerSecond > 0,
            loginDeadline > 0, idleTimeout > 0
        else {
            throw ValidationError(
                "limits must be positive (--max-frame-size at least 1024 bytes): check --max-frame-size, "
                    + "--max-upload-entries, --max-connections, --connections-per-second, --login-deadline, "
                    + "--idle-timeout.")
        }
        guard passwordParameters.isSupported else {
            throw ValidationError("--password-cost must be from 1 to \(PasswordHasher.Parameters.maximumLogRounds).")
        }
    }

    private var limits: ConnectionLimits {
        var limits = ConnectionLimits()
        limits.maximumConnections = maxConnections
        limits.connectionsPerSecondPerAddress = connectionsPerSecond
        limits.loginDeadline = loginDeadline
        limits.idleTimeout = idleTimeout
        limits.maximumUploadEntries = maxUploadEntries
        return limits
    }

    private var passwordParameters: PasswordHasher.Parameters {
        var parameters = PasswordHasher.Parameters.standard
        parameters.logRounds = passwordCost
        return parameters
    }

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        // What the server prints is for people; a reader that went away (`bluetrace server … | head`) must not
        // end the health authority.
        signal(SIGPIPE, SIG_IGN)
        MallocTuning.apply()
        let logger = Logger(label: "bluetrace.server")
        let configuration = ServerConfiguration(
            host: host, port: serverPort, blockDuration: blockDuration, tempIDLifetime: tempIDLifetime,
            credentialsPath: credentials, tempIDsPath: tempIDs, databasePath: database, tempIDScheme: tempIDScheme,
            keyFilePath: keyFile, sealedBatchSize: sealedBatchSize, retentionDays: retentionDays,
            passwordParameters: passwordParameters, maximumFrameSize: maxFrameSize, limits: limits,
            // The console issues upload codes, so they are available (not required) when it runs.
            uploadCodes: requireUploadCode ? .required : (httpPort != nil ? .available : .off),
            exposureNotices: exposureNotices ? CloseContactRule(minimumEncounters: closeContactEncounters) : nil,
            tls: try tls.makeContext())
        let metrics = httpPort.map { _ in OperationsMetrics() }
        let application = try await ServerApplication.open(
            configuration: configuration,
            observers: [
                AssignmentTranscript(transcript: StandardOutputTranscript(), format: configuration.timeFormat)
            ] + (metrics.map { [$0] } ?? []),
            decorateStore: { store in metrics.map { TimedStore(store, metrics: $0) } ?? store },
            logger: logger)
        var services = application.services(transportObserver: metrics)
        if let httpPort, let metrics {
            services.append(
                OperationsServer.application(
                    configuration: OperationsConfiguration(host: httpHost, port: httpPort, tls: configuration.tls),
                    store: application.store, authority: application.authority, metrics: metrics,
                    format: configuration.timeFormat, logger: Logger(label: "bluetrace.console")))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        await application.authority.close()
    }
}

/// `bluetrace client <server_IP> <server_port> <client_udp_port>`.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Run a phone client.",
        discussion: """
            Commands after login: Download_tempID, Upload_contact_log, Beacon <dest IP> <dest port>, logout. \
            Reads one command per line, from a terminal or piped input.
            """
    )

    @Argument(help: "The server's IP address or host name.")
    var serverIP: String

    @Argument(help: "The server's TCP port.")
    var serverPort: Int

    @Argument(help: "The UDP port to listen on for beacons.")
    var clientUDPPort: Int

    @Option(help: "Seconds a received beacon stays in the contact log.")
    var contactRetention: Int64 = 180

    @Option(help: "The directory for <username>_contactlog.txt.")
    var logDir = "."

    @Flag(help: "Create an account (phone number and password) before logging in.")
    var register = false

    @OptionGroup var tls: ClientTLSOptions

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (1...65_535).contains(serverPort) else {
            throw ValidationError("server_port must be a port number from 1 to 65535, not \(serverPort).")
        }
        guard (0...65_535).contains(clientUDPPort) else {
            throw ValidationError("client_udp_port must be a port number from 0 to 65535, not \(clientUDPPort).")
        }
        guard contactRetention >= 0 else {
            throw ValidationError("--contact-retention must be 0 seconds or more.")
        }
    }

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        let transcript = StandardOutputTranscript()
        let client = BlueTraceClient(
            configuration: ClientConfiguration(
                serverHost: serverIP, serverPort: serverPort, udpPort: clientUDPPort,
                contactRetention: contactRetention, logDirectory: logDir, register: register,
                tls: try tls.makeContext()),
            transcript: transcript, logger: Logger(label: "bluetrace.client"))
        let outcome = try await client.run(input: StandardInput(transcript: transcript))
        if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
    }
}

/// `bluetrace demo`.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the whole system working: a server and three phones in one process, on loopback."
    )

    @Flag(help: "The phones talk to the server over TLS, with a development certificate made for the run.")
    var tls = false

    @OptionGroup var common: CommonOptions

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        try await Demo(sink: StandardOutputTranscript(), logger: Logger(label: "bluetrace.demo"), tls: tls).run()
    }
}
