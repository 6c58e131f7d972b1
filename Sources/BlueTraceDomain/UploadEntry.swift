/// One contact-log entry inside an upload: a well-formed encounter, or the reason it could not be read.
///
/// Entries are decoded one by one, so a bad entry is reported back as malformed while the others are still traced.
public enum UploadEntry: Hashable, Sendable {
    /// A well-formed encounter.
    case encounter(ReportedEncounter)
    /// An entry that is not a well-formed encounter, and why.
    case malformed(tempID: String?, reason: String)
}
