/// The TempIDs a phone holds and the rule for which one to broadcast when.
///
/// The TempIDs' text is kept back to back in one buffer, beside their windows: a simulated population holds a wallet
/// per phone, and a sealed TempID kept as a `String` of its own costs about 160 bytes, against its 80 characters and
/// 24 bytes of window and end here.
public struct TempIDWallet: Sendable {
    /// A TempID's window and where its text ends in `text`.
    private struct Slot: Sendable {
        var validity: ValidityWindow
        var end: Int32
    }

    /// The TempIDs' UTF-8, back to back, in order of validity.
    private var text: [UInt8] = []
    /// The TempIDs, in order of validity.
    private var slots: [Slot] = []
    /// The first slot not yet discarded by `current(at:)`.
    private var first = 0
    /// Whether the wallet was last filled with a batch (and so should be renewed automatically when it runs out).
    public private(set) var holdsBatch = false

    /// Creates an empty wallet.
    public init() {}

    /// Replaces the wallet's TempIDs with `grants`.
    public mutating func fill(with grants: [IssuedTempID]) {
        let sorted = grants.sorted { $0.validity.start < $1.validity.start }
        text = []
        text.reserveCapacity(sorted.reduce(0) { $0 + $1.tempID.utf8Count })
        slots = []
        slots.reserveCapacity(sorted.count)
        for grant in sorted {
            text += grant.tempID.rawValue.utf8
            slots.append(Slot(validity: grant.validity, end: Int32(text.count)))
        }
        first = 0
        holdsBatch = grants.count > 1
    }

    /// The TempID to broadcast at `time`: the one valid then, or else the latest one (expired or not yet valid), so
    /// that an expired ID can still be sent and seen to be invalid.
    public func tempID(at time: Timestamp) -> (issued: IssuedTempID, isValid: Bool)? {
        if let valid = slots.indices[first...].last(where: { slots[$0].validity.contains(time) }) {
            return (issued(at: valid), true)
        }
        return first < slots.count ? (issued(at: slots.count - 1), false) : nil
    }

    /// The TempID valid at `time`, discarding those that expired before it (time only moves forward), or `nil`.
    /// Amortised constant time, for phones that ask every beacon interval.
    public mutating func current(at time: Timestamp) -> IssuedTempID? {
        while first < slots.count, slots[first].validity.expiry < time { first += 1 }
        if first == slots.count, !slots.isEmpty {
            // All expired: let the buffers go (a million idle phones would otherwise keep their last batch).
            text = []
            slots = []
            first = 0
        }
        guard first < slots.count, slots[first].validity.contains(time) else { return nil }
        return issued(at: first)
    }

    /// Whether a batch has run out at `time`: no TempID valid now or later.
    public func needsRenewal(at time: Timestamp) -> Bool {
        holdsBatch && !slots[first...].contains { $0.validity.expiry >= time }
    }

    /// The TempID of slot `index`, made from its text.
    private func issued(at index: Int) -> IssuedTempID {
        let start = index == 0 ? 0 : Int(slots[index - 1].end)
        let tempID = TempID(knownValid: String(decoding: text[start..<Int(slots[index].end)], as: UTF8.self))
        return IssuedTempID(tempID: tempID, validity: slots[index].validity)
    }
}
