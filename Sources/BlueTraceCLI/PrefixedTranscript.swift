import BlueTraceDomain
import Foundation

/// A transcript that prefixes every line with a party's label (`server   | …`), for the demo.
public struct PrefixedTranscript: Transcript {
    private let label: String
    private let sink: any Transcript

    /// Creates a transcript labelled `label`, padded to `width`, that writes to `sink`.
    public init(label: String, width: Int = 8, sink: any Transcript) {
        self.label = label.padding(toLength: max(width, label.count), withPad: " ", startingAt: 0)
        self.sink = sink
    }

    public func write(_ lines: [String]) {
        sink.write(lines.map { "\(label) | \($0)" })
    }

    public func prompt(_ text: String) {
        write([text])
    }

    public var blockCapacity: Int? { sink.blockCapacity }

    public func skip(lines: Int) { sink.skip(lines: lines) }
}
