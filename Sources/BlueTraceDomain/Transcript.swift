/// Where a party writes the lines a person at its terminal reads (never diagnostics: those go to the logger).
///
/// A block of lines is written together, so concurrent output (a beacon arriving while a command runs) never
/// interleaves inside a block.
public protocol Transcript: Sendable {
    /// Writes `lines`, each followed by a newline.
    func write(_ lines: [String])
    /// Writes `text` with no newline (an interactive prompt).
    func prompt(_ text: String)
    /// Says the person answered the last prompt (their line ending is on the screen), so no prompt is pending.
    func promptAnswered()
    /// Whether every line written is dropped unread, so a writer may skip making them (a million-entry upload
    /// prints three million lines).
    var discardsLines: Bool { get }
    /// The most bytes one block can hold: a larger block is dropped whole (a terminal's bounded buffer), so a writer
    /// may skip making it and call `skip(lines:)` instead; `nil` when any block is taken.
    var blockCapacity: Int? { get }
    /// Records that a block of `lines` lines was not made because it could not fit (see `blockCapacity`): it counts
    /// as dropped, as if it had been written and had not fit.
    func skip(lines: Int)
}

extension Transcript {
    /// Writes one line.
    public func write(_ line: String) { write([line]) }

    /// Does nothing: only terminals track pending prompts.
    public func promptAnswered() {}

    /// Someone reads what most transcripts write.
    public var discardsLines: Bool { false }

    /// Most transcripts take any block.
    public var blockCapacity: Int? { nil }

    /// Nothing to record where every block is taken.
    public func skip(lines: Int) {}
}

/// A transcript that drops every line: the terminal of a simulated or benchmarked server, which nobody reads.
public struct DiscardingTranscript: Transcript {
    /// Creates the transcript.
    public init() {}

    public func write(_ lines: [String]) {}

    public func prompt(_ text: String) {}

    public var discardsLines: Bool { true }
}

/// The assignment's way of printing an encounter: TempID, start and expiry one per line (`TempID,` `start,`
/// `expiry;`), as clients print beacons and uploads and the server prints received contact logs.
public func encounterLines(tempID: TempID, validity: ValidityWindow, format: TimestampFormat) -> [String] {
    ["\(tempID),", "\(format.string(from: validity.start)),", "\(format.string(from: validity.expiry));"]
}
