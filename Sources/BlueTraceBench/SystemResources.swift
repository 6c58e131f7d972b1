#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The resident memory (RSS) of a process, as Linux reports it in `/proc/<pid>/status`.
public enum ProcessMemory {
    /// The resident set size of process `pid` (this process when `nil`), in bytes.
    public static func residentBytes(ofProcess pid: Int32? = nil) throws(BenchError) -> Int {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let file = fopen(path, "r") else {
            throw .processUnreadable(pid: pid, reason: "\(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("VmRSS:") else { continue }
            // "VmRSS:	   12345 kB"
            let fields = text.dropFirst("VmRSS:".count).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            guard let kilobytes = fields.first.flatMap({ Int($0) }) else { break }
            return kilobytes * 1024
        }
        throw .processUnreadable(pid: pid, reason: "\(path) has no VmRSS line (is it a zombie or a kernel thread?)")
    }
}

/// The processor time (user and system) a process has used, as Linux reports it in `/proc/<pid>/stat`.
public enum ProcessCPU {
    /// Seconds of processor time process `pid` (this process when `nil`) has used so far.
    public static func seconds(ofProcess pid: Int32? = nil) throws(BenchError) -> Double {
        let path = "/proc/\(pid.map(String.init) ?? "self")/stat"
        guard let file = fopen(path, "r") else {
            throw .processUnreadable(pid: pid, reason: "\(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        guard fgets(&line, Int32(line.count), file) != nil else {
            throw .processUnreadable(pid: pid, reason: "\(path) is empty")
        }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // "pid (comm) state ppid …": fields after the command name, which may contain spaces, start at `state`.
        guard let close = text.lastIndex(of: ")") else {
            throw .processUnreadable(pid: pid, reason: "\(path) is not in the expected format")
        }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of the line, so 12 and 13 after the command name (0-based: 11, 12).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw .processUnreadable(pid: pid, reason: "\(path) is not in the expected format")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// The per-process limit on open files: every connection is a file descriptor (two when both ends are here).
public enum FileDescriptorLimit {
    /// The current soft limit.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        return Int(clamping: limit.rlim_cur)
    }

    /// Raises the soft limit to at least `needed` (and the hard limit too, when this process may: as root), and
    /// returns the limit now in force. Throws when it stays below `needed`; `bothEnds` says the connections have both
    /// ends in this process, for the advice.
    @discardableResult
    public static func ensure(atLeast needed: Int, bothEnds: Bool = false) throws(BenchError) -> Int {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else {
            throw .tooFewFileDescriptors(needed: needed, limit: 0, bothEnds: bothEnds)
        }
        let wanted = rlim_t(needed)
        if limit.rlim_cur >= wanted { return Int(clamping: limit.rlim_cur) }
        var raised = limit
        raised.rlim_cur = wanted
        if raised.rlim_max < wanted { raised.rlim_max = wanted }
        if setrlimit(resource, &raised) != 0 {
            // Not allowed to raise the hard limit: go as far as it allows.
            raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &raised)
        }
        let now = current
        guard now >= needed else { throw .tooFewFileDescriptors(needed: needed, limit: now, bothEnds: bothEnds) }
        return now
    }

    #if os(Linux)
        private static var resource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
    #else
        private static var resource: Int32 { RLIMIT_NOFILE }
    #endif
}
