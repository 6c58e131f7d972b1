import Foundation
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes text for a person to a file descriptor (standard output) from a thread of its own, so that whoever writes
/// never waits on the terminal.
///
/// Text waits in a bounded buffer that the writer thread drains with one `write(2)` for everything pending, after
/// gathering for up to `gatherTime` once text arrives (a person sees no delay; a busy server wakes the thread twice
/// per batch instead of once per line). When the
/// terminal falls so far behind that a block does not fit, the block is dropped (whole: a block is never cut), the
/// program goes on, and once there is room again one line says how many lines were not shown. A warning is logged at
/// most once a minute while lines are being dropped. Nothing that matters is lost this way: the store and the text
/// files hold every record; the terminal only shows them.
public final class TerminalWriter: Sendable {
    /// Whether anything is buffered or being written.
    private enum Activity: Equatable {
        /// Nothing buffered, nothing being written.
        case idle
        /// Text is buffered and the writer thread has not taken it yet.
        case pending
        /// The writer thread woke for text and waits up to `gatherTime` for more before it writes.
        case gathering
        /// The buffer holds `writeSize` bytes or more: the gathering writer should write now.
        case full
        /// The writer thread is writing what it took.
        case writing
    }

    /// How long the writer waits for more text once some arrived, so that a busy server's lines go out in a few large
    /// writes instead of one small write (and one thread wake-up) per request.
    static let gatherTime = 0.002
    /// Bytes after which the writer writes at once, without waiting out `gatherTime`.
    static let writeSize = 64 * 1024

    /// What the writer shares with its callers; read and changed only while `activity` is locked.
    private final class Buffer {
        var activity = Activity.idle
        var bytes: [UInt8] = []
        var droppedLines = 0
        var lastWarning: ContinuousClock.Instant?
        var closed = false
    }

    /// Mirrors `buffer.activity` (set on every unlock), so threads can wait for a state.
    private let activity = ConditionLock(value: Activity.idle)
    // Safe to share: every access to `buffer` happens between `activity.lock()` and its unlock, so one thread at a
    // time touches it.
    private nonisolated(unsafe) let buffer = Buffer()
    private let fileDescriptor: Int32
    /// The most bytes it holds unwritten: a piece of text larger than this is always dropped.
    public let capacity: Int

    /// The process's standard output, with a 1 MiB buffer (about 20,000 of the server's lines).
    public static let standardOutput = TerminalWriter(fileDescriptor: STDOUT_FILENO, capacity: 1 << 20)

    /// Creates a writer for `fileDescriptor` holding at most `capacity` bytes that are not yet written, and starts
    /// its thread.
    public init(fileDescriptor: Int32, capacity: Int) {
        self.fileDescriptor = fileDescriptor
        self.capacity = capacity
        let thread = Thread { [self] in drain() }
        thread.name = "bluetrace terminal"
        thread.start()
    }

    /// Queues `text`, which holds `lines` lines, to be written as one piece; drops it when the buffer has no room.
    public func write(_ text: String, lines: Int) {
        var warnDropped: Int?
        activity.lock()
        if buffer.closed {
            // Standard output was closed: nobody can read these lines, and nobody is to be warned about it twice.
        } else if buffer.bytes.count + text.utf8.count > capacity {
            warnDropped = countDropped(lines: lines)
        } else {
            appendNoticeOfDroppedLines()
            buffer.bytes.append(contentsOf: text.utf8)
        }
        // Only two changes wake anybody: the first text (the writer waits for it) and a full buffer (the gathering
        // writer waits for that); every other write leaves the state as it is, and unlocks without a wake-up.
        if buffer.activity == .idle, !buffer.bytes.isEmpty {
            buffer.activity = .pending
            activity.unlock(withValue: buffer.activity)
        } else if buffer.activity == .gathering, buffer.bytes.count >= Self.writeSize {
            buffer.activity = .full
            activity.unlock(withValue: buffer.activity)
        } else {
            activity.unlock()
        }
        if let warnDropped { warnOfDroppedLines(warnDropped) }
    }

    /// Waits until everything queued so far is written, for at most `timeout`; returns whether it was.
    @discardableResult
    public func flush(timeout: Duration = .seconds(2)) -> Bool {
        let (seconds, attoseconds) = timeout.components
        let done = activity.lock(
            whenValue: .idle, timeoutSeconds: max(0, Double(seconds) + Double(attoseconds) / 1e18))
        if done { activity.unlock() }
        return done
    }

    /// Counts `lines` lines as dropped without being given them: a piece that the caller knows is larger than
    /// `capacity`, and so not worth making. Reported as dropped lines are.
    public func drop(lines: Int) {
        activity.lock()
        let warnDropped = buffer.closed ? nil : countDropped(lines: lines)
        activity.unlock()
        if let warnDropped { warnOfDroppedLines(warnDropped) }
    }

    /// Warns that lines are being dropped (`dropped` so far).
    private func warnOfDroppedLines(_ dropped: Int) {
        // Made here, not stored: a logger made before the process sets up logging would write to standard output.
        Logger(label: "bluetrace.terminal").warning(
            """
            The terminal cannot keep up with the output: lines are being dropped (the store and the TempID file \
            keep every record); redirect standard output to a file to keep them all
            """,
            metadata: ["dropped": "\(dropped)"])
    }

    /// Adds `lines` to the dropped lines; returns how many are dropped so far when it is time to warn (at most once
    /// a minute). Called with `activity` locked.
    private func countDropped(lines: Int) -> Int? {
        buffer.droppedLines += lines
        let now = ContinuousClock.now
        guard buffer.lastWarning.map({ now - $0 >= .seconds(60) }) ?? true else { return nil }
        buffer.lastWarning = now
        return buffer.droppedLines
    }

    /// Adds the line about dropped lines to the buffer, if lines were dropped. Called with `activity` locked.
    private func appendNoticeOfDroppedLines() {
        guard buffer.droppedLines > 0 else { return }
        buffer.bytes.append(
            contentsOf: "> (\(buffer.droppedLines) lines not shown: the terminal could not keep up)\n".utf8)
        buffer.droppedLines = 0
    }

    /// The writer thread: once text arrives, gathers more for up to `gatherTime` (or until `writeSize` bytes), takes
    /// everything pending and writes it in one go; until the file descriptor is gone.
    private func drain() {
        var taken: [UInt8] = []
        while true {
            activity.lock(whenValue: .pending)
            if buffer.bytes.count < Self.writeSize {
                buffer.activity = .gathering
                activity.unlock(withValue: buffer.activity)
                if !activity.lock(whenValue: .full, timeoutSeconds: Self.gatherTime) { activity.lock() }
            }
            swap(&taken, &buffer.bytes)
            buffer.activity = .writing
            activity.unlock(withValue: buffer.activity)

            let written = writeAll(taken)
            taken.removeAll(keepingCapacity: taken.capacity <= capacity)

            activity.lock()
            if !written {
                // Nobody reads this descriptor any more (it was closed): drop everything from now on.
                buffer.closed = true
                buffer.bytes.removeAll()
            } else if buffer.bytes.isEmpty {
                appendNoticeOfDroppedLines()
            }
            buffer.activity = buffer.bytes.isEmpty ? .idle : .pending
            activity.unlock(withValue: buffer.activity)
        }
    }

    /// Writes every byte, resuming after interruptions and partial writes; false when the descriptor cannot be
    /// written to any more.
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let result = systemWrite(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if result >= 0 {
                    offset += result
                } else if errno == EINTR {
                    continue
                } else if errno == EAGAIN {
                    // A non-blocking descriptor that is full: wait until it takes more.
                    var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&descriptor, 1, -1)
                } else {
                    return false
                }
            }
            return true
        }
    }
}

/// `write(2)`, under a name the writer's own `write` does not hide.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
