/// A TempID with its validity window: what a phone downloads, broadcasts and hears.
public struct IssuedTempID: Hashable, Sendable {
    /// The TempID.
    public var tempID: TempID
    /// When it is valid.
    public var validity: ValidityWindow

    /// Creates an issued TempID.
    public init(tempID: TempID, validity: ValidityWindow) {
        self.tempID = tempID
        self.validity = validity
    }
}
