// libFuzzer target: the client's contact-log file and the server's credentials.txt and tempIDs.txt, from the same
// text (the bytes read as UTF-8, invalid sequences replaced). Problems with lines are expected and reported, never
// fatal. What parses must write back to text that parses to the same entries; a crash or a failed precondition is a
// bug.

import BlueTraceDomain
import LibFuzzerDriver

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private let readAt = Timestamp(secondsSinceEpoch: 1_589_392_446)  // 13/05/2020 17:54:06 UTC

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { UnsafeRawBufferPointer(start: $0, count: count) } ?? .init(start: nil, count: 0)
    let text = String(decoding: bytes, as: UTF8.self)
    let lineCount = numberedLines(of: text).count

    // The contact log: parse, write, parse again.
    let (log, problems) = ContactLog.parse(text, format: .utc, readAt: readAt)
    precondition(log.entries.count + problems.count <= lineCount, "more entries and problems than lines")
    for problem in problems { _ = problem.description }
    let written = log.text(format: .utc)
    let (again, againProblems) = ContactLog.parse(written, format: .utc, readAt: readAt)
    precondition(againProblems.isEmpty, "the written contact log has problems \(againProblems):\n\(written)")
    precondition(again.entries == log.entries, "round trip changed the contact log:\n\(written)")
    var pruned = log
    let removed = pruned.prune(at: readAt + RetentionPolicy.assignmentRetention, policy: RetentionPolicy())
    precondition(removed + pruned.entries.count == log.entries.count)
    _ = log.nextRemoval(policy: RetentionPolicy())

    // credentials.txt.
    let credentials = CredentialsFile(parsing: text)
    precondition(credentials.usernames.count == credentials.passwords.count)
    precondition(credentials.usernames.count + credentials.problems.count <= lineCount)

    // tempIDs.txt: every grant read writes back as a line that reads as the same grant. (Only for ASCII usernames:
    // a username ending in a Unicode "prepend" character would merge with the space written after it.)
    let tempIDs = TempIDFile(parsing: text, format: .utc)
    precondition(tempIDs.grants.count + tempIDs.problems.count <= lineCount)
    for grant in tempIDs.grants where grant.user.utf8.allSatisfy({ $0 < 0x80 }) {
        precondition(grant.validity.start <= grant.validity.expiry)
        let line = TempIDFile.line(for: grant, format: .utc)
        let reread = TempIDFile(parsing: line, format: .utc)
        precondition(reread.grants == [grant] && reread.problems.isEmpty, "round trip changed the grant: \(line)")
    }
    return 0
}

/// The program starts here: SwiftPM links `main` to the module's entry point, not to libFuzzer's `main`, so this
/// hands the command line over to libFuzzer, which then calls `fuzz` for every input.
@main
enum FuzzerMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) })
    }
}
