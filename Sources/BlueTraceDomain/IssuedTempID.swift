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

/// A value that carries an issued TempID (a grant, a beacon, an encounter): its `tempID` and `validity` are views of
/// `issued`, written once here.
public protocol CarriesIssuedTempID {
    /// The TempID and its validity window.
    var issued: IssuedTempID { get set }
}

extension CarriesIssuedTempID {
    /// The TempID (part of `issued`).
    public var tempID: TempID {
        get { issued.tempID }
        set { issued.tempID = newValue }
    }

    /// When the TempID is valid (part of `issued`).
    public var validity: ValidityWindow {
        get { issued.validity }
        set { issued.validity = newValue }
    }
}
