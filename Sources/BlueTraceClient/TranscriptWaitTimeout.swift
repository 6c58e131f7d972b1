/// No line with the awaited text appeared in time.
public struct TranscriptWaitTimeout: Error, CustomStringConvertible {
    /// The text awaited.
    public var text: String
    /// The transcript's lines when the wait gave up.
    public var lines: [String]

    public var description: String {
        "no line containing \"\(text)\" appeared; the transcript was:\n" + lines.joined(separator: "\n")
    }
}
