import BlueTraceDomain
import BlueTraceWire
import Logging

/// The health authority's state: accounts, login failures, every TempID issued, and contact tracing.
///
/// An actor, so every rule sees one consistent state whichever connection asks. The rules themselves are the domain's
/// pure values (`LoginGuard`, `TempIDRegistry`, `ContactTracer`); this type adds the files and the transcript.
public actor HealthAuthority {
    private let passwords: [String: String]
    private var loginGuard: LoginGuard
    private var registry: TempIDRegistry
    private let tempIDPolicy: TempIDPolicy
    private let journal: AppendOnlyFile
    private let clock: any WallClock
    private let format: TimestampFormat
    private let transcript: any Transcript
    private let logger: Logger
    private var generator = SystemRandomNumberGenerator()

    /// Loads credentials.txt and tempIDs.txt as `configuration` names them.
    ///
    /// Malformed lines are logged with their line number and skipped; a missing tempIDs.txt is created on the first
    /// download. Throws when credentials.txt is missing or empty, or tempIDs.txt cannot be opened for appending.
    public init(
        configuration: ServerConfiguration,
        clock: any WallClock = SystemWallClock(),
        transcript: any Transcript,
        logger: Logger
    ) throws(ServerStartupError) {
        let credentialsText: String?
        do {
            credentialsText = try TextFile.readAll(configuration.credentialsPath)
        } catch {
            throw .credentialsUnreadable(path: configuration.credentialsPath, reason: error.description)
        }
        guard let credentialsText else {
            throw .credentialsUnreadable(path: configuration.credentialsPath, reason: "no such file")
        }
        let credentials = CredentialsFile(parsing: credentialsText)
        for problem in credentials.problems {
            logger.warning(
                "skipped a credentials line",
                metadata: [
                    "file": "\(configuration.credentialsPath)",
                    "line": "\(problem.line)", "reason": "\(problem.reason)",
                ])
        }
        guard !credentials.passwords.isEmpty else { throw .noAccounts(path: configuration.credentialsPath) }

        var registry = TempIDRegistry()
        do {
            if let text = try TextFile.readAll(configuration.tempIDsPath) {
                let file = TempIDFile(parsing: text, format: configuration.timeFormat)
                for problem in file.problems {
                    logger.warning(
                        "skipped a TempID line",
                        metadata: [
                            "file": "\(configuration.tempIDsPath)",
                            "line": "\(problem.line)", "reason": "\(problem.reason)",
                        ])
                }
                for grant in file.grants where !registry.record(grant) {
                    logger.warning(
                        "duplicate TempID in the TempID file; the first mapping wins",
                        metadata: ["tempID": "\(grant.tempID)"])
                }
            }
            journal = try AppendOnlyFile(path: configuration.tempIDsPath)
        } catch {
            throw .tempIDsUnusable(path: configuration.tempIDsPath, reason: error.description)
        }
        logger.info(
            "loaded accounts and TempIDs",
            metadata: [
                "accounts": "\(credentials.passwords.count)",
                "tempIDs": "\(registry.count)",
            ])

        self.passwords = credentials.passwords
        self.registry = registry
        self.loginGuard = LoginGuard(policy: LoginPolicy(blockDuration: configuration.blockDuration))
        self.tempIDPolicy = TempIDPolicy(lifetime: configuration.tempIDLifetime)
        self.clock = clock
        self.format = configuration.timeFormat
        self.transcript = transcript
        self.logger = logger
    }

    /// Decides a login attempt. Unknown usernames get the same answers as wrong passwords.
    public func login(username: String, password: String) -> LoginDecision {
        let now = clock.now()
        if let until = loginGuard.blockEnd(for: username, at: now) { return .blocked(until: until) }
        let matches = constantTimeEquals(passwords[username] ?? "", password) && passwords[username] != nil
        let decision = loginGuard.attempt(user: username, passwordMatches: matches, at: now)
        switch decision {
        case .accepted: logger.info("login", metadata: ["user": "\(username)"])
        case .blockedNow(let until):
            logger.notice(
                "user blocked after repeated login failures",
                metadata: ["user": "\(username)", "until": "\(format.string(from: until))"])
        case .rejected, .blocked: logger.info("login refused", metadata: ["user": "\(username)"])
        }
        return decision
    }

    /// Issues a fresh TempID to `user`, records it in tempIDs.txt, and prints it.
    public func issueTempID(to user: String) throws -> TempIDGrant {
        let grant = registry.issueDecimal(to: user, at: clock.now(), policy: tempIDPolicy, using: &generator)
        try journal.append(line: TempIDFile.line(for: grant, format: format))
        transcript.write(["> user: \(user)", "> TempID:", grant.tempID.rawValue])
        return grant
    }

    /// Traces the contact log `user` uploaded, prints the trace, and returns the receipt.
    public func traceUpload(from user: String, entries: [UploadEntry]) -> UploadReceipt {
        var lines = ["> received contact log from \(user)"]
        for entry in entries {
            switch entry {
            case .encounter(let encounter):
                lines += encounterLines(tempID: encounter.tempID, validity: encounter.validity, format: format)
            case .malformed(let tempID, let reason):
                lines.append("\(tempID ?? "?") (malformed: \(reason));")
            }
        }
        lines.append("> Contact log checking")
        var matched = 0
        var unmatched: [UnmatchedEntry] = []
        for (index, entry) in entries.enumerated() {
            switch entry {
            case .malformed(let tempID, let reason):
                unmatched.append(UnmatchedEntry(index: index, tempID: tempID, reason: .malformed, detail: reason))
            case .encounter(let encounter):
                switch ContactTracer.verdict(for: encounter, grant: registry.grant(for: encounter.tempID)) {
                case .traced(let grant):
                    matched += 1
                    lines += ["\(grant.user),", "\(format.string(from: grant.validity.start)),", "\(grant.tempID);"]
                case .unmatched(let reason):
                    unmatched.append(UnmatchedEntry(index: index, tempID: encounter.tempID.rawValue, reason: reason))
                }
            }
        }
        for entry in unmatched {
            lines.append("> unmatched: \(entry.tempID ?? "?") (\(entry.reason.explanation))")
        }
        transcript.write(lines)
        logger.info(
            "traced upload",
            metadata: [
                "user": "\(user)", "received": "\(entries.count)",
                "matched": "\(matched)",
            ])
        return UploadReceipt(received: entries.count, matched: matched, unmatched: unmatched)
    }

    /// Records that `user` logged out, and prints it.
    public func logout(_ user: String) {
        transcript.write("> \(user) logout")
        logger.info("logout", metadata: ["user": "\(user)"])
    }
}

/// Compares two strings in time that depends only on their lengths, not on where they first differ.
func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let a = Array(lhs.utf8)
    let b = Array(rhs.utf8)
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for index in 0..<max(a.count, b.count) {
        let x = index < a.count ? a[index] : 0
        let y = index < b.count ? b[index] : 0
        difference |= x ^ y
    }
    return difference == 0
}
