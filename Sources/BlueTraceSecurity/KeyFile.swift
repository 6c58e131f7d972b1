import BlueTraceDomain
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads and writes the server's key ring as an owner-only JSON file.
///
/// The file looks like `{"format": 1, "keys": [{"id": 1, "created": 1700000000, "retired": null, "material": "…"}]}`
/// (times in Unix seconds, material 32 bytes in standard base64). It is created with mode 0600 and replaced
/// atomically, and refused when group or others can access it.
public enum KeyFile {
    /// The only file format version written and read.
    public static let format = 1
    /// The largest key file read; anything bigger is not a key file.
    static let maximumSize = 1 << 20

    /// Loads the ring at `path`, or, when there is no file, makes a ring with one fresh key created at `now` and
    /// writes it with mode 0600; `created` tells which happened.
    public static func loadOrCreate(
        path: String, now: Timestamp
    ) throws(KeyFileError) -> (ring: KeyRing, created: Bool) {
        if let ring = try load(path: path) { return (ring, false) }
        let ring = KeyRing.generate(at: now)
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 {
            let code = errno
            // Another process created it between our look and our create: use theirs.
            if code == EEXIST, let ring = try load(path: path) { return (ring, false) }
            throw .cannotWrite(path: path, reason: Self.message(code))
        }
        do throws(KeyFileError) {
            try writeAll(encode(ring), to: fd, path: path)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
        syncDirectory(of: path)
        return (ring, true)
    }

    /// Replaces the file at `path` with `ring` atomically: a 0600 temporary file in the same directory is written,
    /// flushed to disk and renamed over `path`.
    public static func save(_ ring: KeyRing, to path: String) throws(KeyFileError) {
        var generator = SystemRandomNumberGenerator()
        let suffix = String(UInt64.random(in: .min ... .max, using: &generator), radix: 16)
        let temporary = "\(directory(of: path))/.\(fileName(of: path)).\(suffix).tmp"
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: Self.message(errno)) }
        do throws(KeyFileError) {
            try writeAll(encode(ring), to: fd, path: path)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .cannotWrite(path: path, reason: Self.message(code))
        }
        syncDirectory(of: path)
    }

    /// What the file at `path` is on disk now (which file, its size and modification time), or `nil` when there is
    /// none: a cheap way to tell whether it changed since it was read, one `stat` call.
    public static func version(of path: String) -> KeyFileVersion? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        #if canImport(Darwin)
            let modified = status.st_mtimespec
        #else
            let modified = status.st_mtim
        #endif
        return KeyFileVersion(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modified: Int64(modified.tv_sec) * 1_000_000_000 + Int64(modified.tv_nsec))
    }

    // MARK: Reading

    /// The ring in the file at `path`, or `nil` when there is no such file.
    public static func load(path: String) throws(KeyFileError) -> KeyRing? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw .cannotRead(path: path, reason: Self.message(code))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .cannotRead(path: path, reason: Self.message(errno)) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
        let mode = UInt32(status.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw .insecurePermissions(path: path, mode: mode) }
        guard Int(status.st_size) <= maximumSize else {
            throw .invalid(path: path, reason: "it is larger than \(maximumSize) bytes")
        }
        return try decode(readAll(fd, path: path), path: path)
    }

    /// The file's contents as they appear on disk.
    private struct Contents: Decodable {
        struct Entry: Decodable {
            var id: Int
            var created: Int64
            var retired: Int64?
            var material: String
        }
        var format: Int
        var keys: [Entry]
    }

    /// The ring written in `bytes`, checked: known format, at least one key, ids 1–255 and distinct, 32-byte keys.
    static func decode(_ bytes: [UInt8], path: String) throws(KeyFileError) -> KeyRing {
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: Data(bytes))
        } catch {
            throw .invalid(path: path, reason: "it is not key-file JSON (\(Self.summary(of: error)))")
        }
        guard contents.format == format else { throw .unsupportedFormat(path: path, format: contents.format) }
        guard !contents.keys.isEmpty else { throw .noKeys(path: path) }
        var keys: [ServerKey] = []
        var seen = Set<UInt8>()
        for entry in contents.keys {
            guard let id = UInt8(exactly: entry.id), id != 0 else { throw .invalidKeyID(path: path, id: entry.id) }
            guard seen.insert(id).inserted else { throw .duplicateKeyID(path: path, id: id) }
            guard let material = Base64.decodePadded(entry.material) else {
                throw .invalid(path: path, reason: "the material of key \(id) is not base64")
            }
            guard material.count == ServerKey.byteCount else {
                throw .wrongKeyLength(path: path, id: id, byteCount: material.count)
            }
            keys.append(
                ServerKey(
                    id: id, created: Timestamp(secondsSinceEpoch: entry.created),
                    retired: entry.retired.map(Timestamp.init(secondsSinceEpoch:)),
                    material: SymmetricKey(data: material)))
        }
        // Oldest first; keys made in the same second keep the file's order.
        let ordered = keys.enumerated().sorted { ($0.element.created, $0.offset) < ($1.element.created, $1.offset) }
        return KeyRing(keys: ordered.map(\.element))
    }

    /// Everything `fd` has left to read.
    private static func readAll(_ fd: Int32, path: String) throws(KeyFileError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: Self.message(errno))
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maximumSize else {
                throw .invalid(path: path, reason: "it is larger than \(maximumSize) bytes")
            }
        }
    }

    // MARK: Writing

    /// The JSON text of `ring`, one key per line, oldest first.
    static func encode(_ ring: KeyRing) -> [UInt8] {
        let lines = ring.keys.map { key in
            let retired = key.retired.map { String($0.secondsSinceEpoch) } ?? "null"
            let material = key.material.withUnsafeBytes { Base64.encodePadded($0) }
            return "    {\"id\": \(key.id), \"created\": \(key.created.secondsSinceEpoch), "
                + "\"retired\": \(retired), \"material\": \"\(material)\"}"
        }
        let text = "{\n  \"format\": \(format),\n  \"keys\": [\n" + lines.joined(separator: ",\n") + "\n  ]\n}\n"
        return Array(text.utf8)
    }

    /// Sets `fd` to mode 0600 whatever the umask, writes all of `bytes` and flushes them to disk.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(KeyFileError) {
        guard fchmod(fd, 0o600) == 0 else { throw .cannotWrite(path: path, reason: Self.message(errno)) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: Self.message(errno))
            }
            offset += written
        }
        guard fsync(fd) == 0 else { throw .cannotWrite(path: path, reason: Self.message(errno)) }
    }

    /// Flushes the directory holding `path`, so a create or rename survives a crash; best effort.
    private static func syncDirectory(of path: String) {
        let fd = open(directory(of: path), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    // MARK: Helpers

    /// The directory part of `path` (`.` when there is none).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path`.
    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The operating system's message for `code`.
    private static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// A one-line account of a JSON decoding error.
    private static func summary(of error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
            DecodingError.valueNotFound(_, let context):
            let location = context.codingPath.map(\.stringValue).joined(separator: ".")
            return location.isEmpty ? context.debugDescription : "\(location): \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, let context):
            let parent = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "missing \"\(key.stringValue)\"" + (parent.isEmpty ? "" : " in \(parent)")
        default:
            return "\(error)"
        }
    }
}

/// Which file a key file is and when it last changed: a replaced file (`KeyFile.save` renames a new one over it)
/// has a new inode, an edited one a new size or modification time.
public struct KeyFileVersion: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    /// Nanoseconds since 1970.
    let modified: Int64
}

/// Why the key file could not be read or written; each description says what to do.
public enum KeyFileError: Error, Hashable, CustomStringConvertible {
    /// The file exists but could not be opened or read.
    case cannotRead(path: String, reason: String)
    /// The file or its temporary copy could not be written.
    case cannotWrite(path: String, reason: String)
    /// The path names a directory, device or other non-file.
    case notARegularFile(path: String)
    /// Group or others may access the file (`mode` is its permission bits).
    case insecurePermissions(path: String, mode: UInt32)
    /// The file is not a key file: bad JSON, wrong structure or bad base64.
    case invalid(path: String, reason: String)
    /// The file has a format version this program does not know.
    case unsupportedFormat(path: String, format: Int)
    /// The file lists no keys.
    case noKeys(path: String)
    /// A key id is outside 1–255.
    case invalidKeyID(path: String, id: Int)
    /// Two keys share an id.
    case duplicateKeyID(path: String, id: UInt8)
    /// A key's material is not 32 bytes.
    case wrongKeyLength(path: String, id: UInt8, byteCount: Int)

    /// Advice shared by every "the file is damaged" error.
    private static let damagedAdvice =
        "restore it from a backup, or move it away to start a new key ring (TempIDs already issued can then no longer "
        + "be opened)"

    /// What went wrong and what to do about it.
    public var description: String {
        switch self {
        case .cannotRead(let path, let reason):
            "cannot read the key file \(path): \(reason); check that it exists and that this user may read it"
        case .cannotWrite(let path, let reason):
            "cannot write the key file \(path): \(reason); check that its directory exists, is writable by this user "
                + "and has free space"
        case .notARegularFile(let path):
            "the key file \(path) is not a regular file; point the server at a file path"
        case .insecurePermissions(let path, let mode):
            "the key file \(path) can be accessed by group or others (mode \(String(mode, radix: 8))); "
                + "run `chmod 600 \(path)` and start again"
        case .invalid(let path, let reason):
            "the key file \(path) is not valid: \(reason); \(Self.damagedAdvice)"
        case .unsupportedFormat(let path, let format):
            "the key file \(path) has format \(format), but this program reads only format \(KeyFile.format); "
                + "use the program version that wrote it, or \(Self.damagedAdvice)"
        case .noKeys(let path):
            "the key file \(path) holds no keys; \(Self.damagedAdvice)"
        case .invalidKeyID(let path, let id):
            "the key file \(path) has a key with id \(id), but ids must be 1–255; \(Self.damagedAdvice)"
        case .duplicateKeyID(let path, let id):
            "the key file \(path) has more than one key with id \(id); \(Self.damagedAdvice)"
        case .wrongKeyLength(let path, let id, let byteCount):
            "the key file \(path) has a \(byteCount)-byte key \(id), but keys are \(ServerKey.byteCount) bytes; "
                + Self.damagedAdvice
        }
    }
}
