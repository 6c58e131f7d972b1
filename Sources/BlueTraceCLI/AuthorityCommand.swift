import ArgumentParser
import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceServer
import BlueTraceStore
import Foundation
import Logging

/// `bluetrace authority …`: the health official's tasks, run beside the server on its database and key file.
struct AuthorityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authority", abstract: "The health official's tasks.", subcommands: [IssueCode.self])

    /// `bluetrace authority issue-code <phone>`.
    struct IssueCode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue-code",
            abstract:
                "Issue a one-time upload code to a registered phone, for a server run with --require-upload-code.",
            discussion: """
                The code is printed once: tell it to the person (by phone, as COVIDSafe's officials did). The server \
                keeps only an HMAC of it under its key file. It is valid once, until it expires; 5 wrong codes from \
                that phone void it. The issue is recorded in the audit trail under your user name.
                """)

        @Argument(help: "The phone number (username) of the person who tested positive.")
        var phone: String

        @Option(help: "How long the code stays valid: seconds, or with a unit (90s, 15m, 2h).")
        var valid = "15m"

        @Option(help: "The server's database: a SQLite file or a postgres:// URL (default: $BLUETRACE_DATABASE).")
        var database = OfficialDatabase.standard

        @Option(help: "The server key file (created if missing, owner-only).")
        var keyFile = "bluetrace-keys.json"

        @OptionGroup var common: CommonOptions

        func validate() throws {
            guard TimeSpan(text: valid) != nil else {
                throw ValidationError("--valid must be seconds or a number with s, m or h (like 15m); got \(valid).")
            }
        }

        func run() async throws {
            Logs.bootstrap(level: common.logLevel)
            let logger = Logger(label: "bluetrace.authority")
            let seconds = TimeSpan(text: valid)!.seconds
            let (code, expiresAt) = try await OfficialDatabase.with(database, logger: logger) { store in
                let application = try await ServerApplication.open(
                    configuration: ServerConfiguration(
                        port: 0, blockDuration: 0, credentialsPath: nil, tempIDsPath: nil, databasePath: database,
                        keyFilePath: keyFile, uploadCodes: .available),
                    store: store, logger: logger)
                return try await application.authority.issueUploadCode(to: phone, lifetime: seconds, by: Official.name)
            }
            print("Upload code for \(phone): \(code)")
            print(
                "Valid once, until \(TimestampFormat().string(from: expiresAt)). Tell it to the person; it is not shown again."
            )
        }
    }
}

/// `bluetrace audit`: what the health authority did, and who did it.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the audit trail: codes issued, redeemed and refused, uploads, trace queries.")

    @Option(help: "Only entries this recent: seconds or with a unit (90s, 15m, 2h, 3d).")
    var since: String?

    @Option(help: "The server's database: a SQLite file or a postgres:// URL (default: $BLUETRACE_DATABASE).")
    var database = OfficialDatabase.standard

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        if let since, TimeSpan(text: since) == nil {
            throw ValidationError("--since must be seconds or a number with s, m, h or d (like 2h); got \(since).")
        }
    }

    func run() async throws {
        let cutoff = since.map { SystemWallClock().now() - TimeSpan(text: $0)!.seconds }
        let entries = try await OfficialDatabase.with(database, logger: Logger(label: "bluetrace.audit")) {
            try await $0.auditTrail(since: cutoff)
        }
        print(Self.render(entries, json: json, format: TimestampFormat()))
    }

    /// The trail: a table for people, or JSON for programs.
    static func render(_ entries: [AuditEntry], json: Bool, format: TimestampFormat) -> String {
        if json {
            struct Row: Encodable {
                var at: String
                var atUnix: Int64
                var actor: String
                var action: String
                var subject: String?
                var detail: String
            }
            let rows = entries.map {
                Row(
                    at: format.string(from: $0.at), atUnix: $0.at.secondsSinceEpoch, actor: $0.actor,
                    action: $0.action.rawValue, subject: $0.subject, detail: $0.detail)
            }
            return PrettyJSON.string(rows)
        }
        guard !entries.isEmpty else { return "The audit trail is empty." }
        var lines = ["time                 actor            action         subject          detail"]
        for entry in entries {
            lines.append(
                format.string(from: entry.at) + "  " + entry.actor.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + " " + entry.action.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0) + " "
                    + (entry.subject ?? "–").padding(toLength: 16, withPad: " ", startingAt: 0) + " " + entry.detail)
        }
        return lines.joined(separator: "\n")
    }
}

/// Who an official is in the audit trail: the operating-system user running the command.
enum Official {
    static var name: String {
        ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "official"
    }
}

/// A length of time typed on the command line: `90`, `90s`, `15m`, `2h` or `3d`.
struct TimeSpan {
    /// The length in seconds.
    let seconds: Int64

    /// Reads `text`; `nil` when it is not a positive whole number with an optional unit.
    init?(text: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let multiplier = units[last] {
            unit = multiplier
            digits = digits.dropLast()
        }
        guard let number = Int64(digits), number >= 1 else { return nil }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        self.seconds = seconds
    }
}
