import ArgumentParser
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import Foundation
import Logging

extension TempIDScheme: ExpressibleByArgument {}

/// `bluetrace trace <phone>`: who to call, from the store.
struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "List the contacts traced from a positive user's uploads (for the health official who calls them)."
    )

    @Argument(help: "The positive user's phone number.")
    var phone: String

    @Option(help: "The server's database: a SQLite file or a postgres:// URL (default: $BLUETRACE_DATABASE).")
    var database = OfficialDatabase.standard

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let contacts = try await OfficialDatabase.with(database, logger: Logger(label: "bluetrace.trace")) { store in
            let contacts = try await store.tracedContacts(of: phone)
            try await store.recordAudit([
                AuditEntry(
                    at: SystemWallClock().now(), actor: Official.name, action: .traceQuery, subject: phone,
                    detail: "\(contacts.count) \(contacts.count == 1 ? "contact" : "contacts") listed")
            ])
            return contacts
        }
        print(Self.render(contacts, of: phone, json: json, format: TimestampFormat()))
    }

    /// The report: a table for people, or JSON for programs.
    static func render(_ contacts: [TracedContact], of phone: String, json: Bool, format: TimestampFormat) -> String {
        if json {
            struct Row: Encodable {
                var phone: String
                var firstEncounter: String
                var lastEncounter: String
                var firstEncounterUnix: Int64
                var lastEncounterUnix: Int64
                var encounters: Int
                var tempIDs: [String]
            }
            let rows = contacts.map {
                Row(
                    phone: $0.phone, firstEncounter: format.string(from: $0.firstEncounter),
                    lastEncounter: format.string(from: $0.lastEncounter),
                    firstEncounterUnix: $0.firstEncounter.secondsSinceEpoch,
                    lastEncounterUnix: $0.lastEncounter.secondsSinceEpoch, encounters: $0.encounters,
                    tempIDs: $0.tempIDs.map(\.rawValue))
            }
            return PrettyJSON.string(rows)
        }
        guard !contacts.isEmpty else { return "No contacts traced from the uploads of \(phone)." }
        var lines = [
            "Contacts traced from the uploads of \(phone):",
            "phone            first encounter      last encounter       encounters  TempIDs",
        ]
        for contact in contacts {
            lines.append(
                contact.phone.padding(toLength: 16, withPad: " ", startingAt: 0) + " "
                    + format.string(from: contact.firstEncounter) + "  " + format.string(from: contact.lastEncounter)
                    + "  " + String(contact.encounters).padding(toLength: 10, withPad: " ", startingAt: 0) + "  "
                    + contact.tempIDs.map(\.rawValue).joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}

/// `bluetrace keys rotate`: a new current server key; old ones keep decoding until retention passes.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage the server key file.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new current key; TempIDs sealed under older keys keep tracing until past retention.")

        @Option(help: "The server key file.")
        var keyFile = "bluetrace-keys.json"

        func run() async throws {
            let now = SystemWallClock().now()
            var (ring, _) = try KeyFile.loadOrCreate(path: keyFile, now: now)
            let key = ring.rotate(at: now)
            try KeyFile.save(ring, to: keyFile)
            print(
                "Key \(key.id) is now current in \(keyFile) (\(ring.keys.count) keys). Running servers using this file "
                    + "pick it up within 5 seconds.")
        }
    }
}
