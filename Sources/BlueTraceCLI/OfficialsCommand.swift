import ArgumentParser
import BlueTraceClient
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import Foundation
import Logging
import NIOPosix

/// `bluetrace officials …`: the accounts health officials log in to the console with (never phone accounts).
struct OfficialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "officials", abstract: "Manage health officials' console accounts.", subcommands: [Add.self])

    /// `bluetrace officials add <name>`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Create an official's console account; the password is asked for (twice, not echoed).",
            discussion: """
                The account is stored in the server's database with a salted scrypt hash of the password. It is an \
                account of the console only: it cannot log in as a phone, and a phone account cannot log in to the \
                console. With --password-stdin the password is the first line of standard input (for scripts).
                """)

        @Argument(help: "The official's login name.")
        var name: String

        @Flag(help: "Read the password from the first line of standard input, without prompting.")
        var passwordStdin = false

        @Option(help: "The server's database: a SQLite file or a postgres:// URL (default: $BLUETRACE_DATABASE).")
        var database = OfficialDatabase.standard

        @Option(help: "scrypt cost of the hash, as log2 of the rounds (10 is fast, 15 the default).")
        var passwordCost = PasswordHasher.Parameters.standard.logRounds

        @OptionGroup var common: CommonOptions

        func validate() throws {
            guard !name.isEmpty, name.count <= 64,
                name.allSatisfy({ $0.isLetter || $0.isNumber || "._-@".contains($0) })
            else {
                throw ValidationError(
                    "the name must be 1 to 64 letters, digits or . _ - @ (no spaces); got \(name.debugDescription).")
            }
            var parameters = PasswordHasher.Parameters.standard
            parameters.logRounds = passwordCost
            guard parameters.isSupported else {
                throw ValidationError(
                    "--password-cost must be from 1 to \(PasswordHasher.Parameters.maximumLogRounds).")
            }
        }

        func run() async throws {
            Logs.bootstrap(level: common.logLevel)
            let password = try await readPassword()
            var parameters = PasswordHasher.Parameters.standard
            parameters.logRounds = passwordCost
            let hasher = PasswordHasher(parameters: parameters)
            let hash = try await NIOThreadPool.singleton.runIfActive { try hasher.hash(password) }
            let created = try await OfficialDatabase.with(
                database, create: true, logger: Logger(label: "bluetrace.officials")
            ) { store in
                try await store.createOfficial(name: name, passwordHash: hash, at: SystemWallClock().now())
            }
            guard created else { throw OfficialsError.nameTaken(name) }
            print("Created the console account of official \(name).")
        }

        private func readPassword() async throws -> String {
            if passwordStdin {
                guard var line = Swift.readLine(strippingNewline: true) else { throw OfficialsError.noPassword }
                if line.hasSuffix("\r") { line.removeLast() }
                guard !line.isEmpty else { throw OfficialsError.noPassword }
                guard line.count >= 8 else { throw OfficialsError.passwordTooShort }
                return line
            }
            let input = StandardInput(transcript: StandardOutputTranscript())
            guard let first = await input.readLine(prompt: "Password: ", secret: true), !first.isEmpty else {
                throw OfficialsError.noPassword
            }
            guard first.count >= 8 else { throw OfficialsError.passwordTooShort }
            guard let second = await input.readLine(prompt: "Repeat the password: ", secret: true), second == first
            else { throw OfficialsError.passwordsDiffer }
            return first
        }
    }
}

/// Why an official's account was not created; says what to do.
enum OfficialsError: Error, CustomStringConvertible {
    case nameTaken(String)
    case noPassword
    case passwordTooShort
    case passwordsDiffer

    var description: String {
        switch self {
        case .nameTaken(let name): "an official named \(name) already exists; choose another name."
        case .noPassword: "no password given (with --password-stdin: on the first line); the account was not created."
        case .passwordTooShort: "the password must have at least 8 characters; the account was not created."
        case .passwordsDiffer: "the passwords differ; the account was not created."
        }
    }
}
