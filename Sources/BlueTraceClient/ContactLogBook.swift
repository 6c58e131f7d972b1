import BlueTraceDomain
import BlueTraceWire
import Foundation
import Logging

/// A phone's contact log on disk: `<username>_contactlog.txt`, rewritten atomically (temporary file, then rename)
/// whenever it changes, so the file is never half-written.
///
/// Beacons heard before login are kept in memory and written once the username (and so the file) is known.
public actor ContactLogBook {
    private var log = ContactLog()
    private var path: String?
    private let policy: RetentionPolicy
    private let clock: any WallClock
    private let format: TimestampFormat
    private let logger: Logger

    /// Creates an empty, not yet attached contact log.
    public init(policy: RetentionPolicy, clock: any WallClock, format: TimestampFormat, logger: Logger) {
        self.policy = policy
        self.clock = clock
        self.format = format
        self.logger = logger
    }

    /// The contact log file of `user` in `directory`.
    public static func path(for user: String, in directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(user)_contactlog.txt")
    }

    /// Ties the log to `path`: entries already in that file (from an earlier run) are loaded, those past retention
    /// dropped, and the result written back.
    public func attach(to path: String) throws {
        let now = clock.now()
        if let data = FileManager.default.contents(atPath: path) {
            let (stored, problems) = ContactLog.parse(
                String(decoding: data, as: UTF8.self), format: format, readAt: now)
            for problem in problems {
                logger.warning(
                    "skipped a contact log line",
                    metadata: [
                        "file": "\(path)", "line": "\(problem.line)",
                        "reason": "\(problem.reason)",
                    ])
            }
            var merged = stored
            for entry in log.entries { merged.append(entry) }
            log = merged
        }
        self.path = path
        log.prune(at: now, policy: policy)
        try save()
    }

    /// Records a valid beacon heard now.
    public func record(_ beacon: Beacon) throws {
        log.append(ContactLogEntry(tempID: beacon.tempID, validity: beacon.validity, receivedAt: clock.now()))
        try save()
    }

    /// The entries still within retention, after removing the others from the file.
    public func currentEntries() throws -> [ContactLogEntry] {
        try prune()
        return log.entries
    }

    /// Removes entries past retention; rewrites the file when anything was removed.
    public func prune() throws {
        if log.prune(at: clock.now(), policy: policy) > 0 { try save() }
    }

    /// Prunes once a second until the task is cancelled.
    public func pruneContinuously() async {
        while !Task.isCancelled {
            do {
                try prune()
            } catch {
                logger.error("could not rewrite the contact log", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func save() throws {
        guard let path else { return }
        try AtomicFile.write(log.text(format: format), to: path)
    }
}

/// Writes whole files atomically: to a temporary file beside the target, flushed to disk, then renamed over it.
enum AtomicFile {
    /// The file could not be written.
    struct WriteError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot write \(path): \(reason)" }
    }

    static func write(_ text: String, to path: String) throws(WriteError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        var bytes = Array(text.utf8)
        var offset = 0
        var failure: Int32?
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        if failure == nil, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw WriteError(path: path, reason: String(cString: strerror(failure)))
        }
    }
}
