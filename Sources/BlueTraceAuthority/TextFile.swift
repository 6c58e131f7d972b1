#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small POSIX file helpers for the server's text files (read once at start, appended line by line).
package enum TextFile {
    /// An error from the operating system, with its message.
    package struct SystemError: Error, CustomStringConvertible {
        package var errno: Int32
        package var description: String { String(cString: strerror(errno)) }
    }

    /// The whole file as UTF-8 text (invalid bytes replaced), or `nil` when it does not exist.
    package static func readAll(_ path: String) throws(SystemError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SystemError(errno: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError(errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// An append-only text file: each call writes whole lines with one `write(2)` on an `O_APPEND` descriptor, so lines
/// from one process never interleave and an existing file is never truncated.
final class AppendOnlyFile {
    private let fd: Int32
    private var lineEnding: String
    private var needsLeadingNewline: Bool

    /// Opens (creating if needed) `path` for appending. A file without a final newline gets one before the first
    /// line is appended, and a file with CRLF endings keeps getting CRLF.
    init(path: String) throws(TextFile.SystemError) {
        let existing = try TextFile.readAll(path)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TextFile.SystemError(errno: errno) }
        lineEnding = existing?.contains("\r\n") == true ? "\r\n" : "\n"
        needsLeadingNewline = existing.map { !$0.isEmpty && !$0.hasSuffix("\n") } ?? false
    }

    deinit { close(fd) }

    /// Appends `lines`, each with a line ending, in one write.
    func append(lines: [String]) throws(TextFile.SystemError) {
        var text = needsLeadingNewline ? lineEnding : ""
        for line in lines {
            text += line
            text += lineEnding
        }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TextFile.SystemError(errno: errno)
            }
            offset += written
        }
        needsLeadingNewline = false
    }
}
