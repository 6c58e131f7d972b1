import ArgumentParser
import BlueTraceDomain
import Foundation
import Logging

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
