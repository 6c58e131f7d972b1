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
