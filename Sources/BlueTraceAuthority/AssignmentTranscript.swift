import BlueTraceDomain

/// The server's terminal lines, exactly as the assignment prints them, made from the health authority's events.
public struct AssignmentTranscript: AuthorityObserver {
    private let transcript: any Transcript
    private let format: TimestampFormat

    /// Prints to `transcript`, with times in `format`.
    public init(transcript: any Transcript, format: TimestampFormat) {
        self.transcript = transcript
        self.format = format
    }

    public func observe(_ event: AuthorityEvent) {
        guard !transcript.discardsLines else { return }
        switch event {
        case .registered(let user):
            transcript.write("> \(user) registered")
        case .tempIDsIssued(let user, let grants):
            var lines = ["> user: \(user)", "> TempID:", grants[0].tempID.rawValue]
            if grants.count > 1 { lines.append("> and \(grants.count - 1) more TempIDs following it") }
            transcript.write(lines)
        case .uploadTraced(let upload):
            // A block that can never fit the terminal's buffer is dropped whole: counted, not made (a million-entry
            // upload is six million lines).
            if let capacity = transcript.blockCapacity, Self.leastBytes(of: upload) > capacity {
                transcript.skip(lines: Self.lineCount(of: upload))
            } else {
                transcript.write(lines(for: upload))
            }
        case .loggedOut(let user):
            transcript.write("> \(user) logout")
        case .loginAccepted, .loginRefused, .userBlocked, .uploadCodeIssued, .uploadCodeTried, .exposureNoticesSent,
            .exposureNoticeDelivered:
            break
        }
    }

    /// How many lines `lines(for:)` makes of `upload`.
    static func lineCount(of upload: TracedUpload) -> Int {
        var count = 2 + 3 * upload.receipt.matched + upload.receipt.unmatched.count
        for entry in upload.entries {
            if case .encounter = entry { count += 3 } else { count += 1 }
        }
        return count
    }

    /// A lower bound on the bytes of the lines `lines(for:)` makes of `upload`, with their newlines, found without
    /// making them: every line has at least one character, and an encounter's first line holds its TempID and a comma.
    static func leastBytes(of upload: TracedUpload) -> Int {
        var bytes = 2 * lineCount(of: upload)
        for case .encounter(let encounter) in upload.entries { bytes += encounter.tempID.utf8Count }
        return bytes
    }

    /// A traced upload as the assignment prints it: the contact log received, then the contacts found.
    private func lines(for upload: TracedUpload) -> [String] {
        var lines = ["> received contact log from \(upload.uploader)"]
        lines.reserveCapacity(Self.lineCount(of: upload))
        for entry in upload.entries {
            switch entry {
            case .encounter(let encounter):
                lines += encounterLines(tempID: encounter.tempID, validity: encounter.validity, format: format)
            case .malformed(let tempID, let reason):
                lines.append("\(tempID ?? "?") (malformed: \(reason));")
            }
        }
        lines.append("> Contact log checking")
        for grant in upload.traced {
            lines += ["\(grant.user),", "\(format.string(from: grant.validity.start)),", "\(grant.tempID);"]
        }
        for entry in upload.receipt.unmatched {
            lines.append("> unmatched: \(entry.tempID ?? "?") (\(entry.reason.explanation))")
        }
        return lines
    }
}
