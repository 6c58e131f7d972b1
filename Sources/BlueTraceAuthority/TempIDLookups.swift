import BlueTraceDomain

/// What is known of each TempID of an upload, in the upload's order: one answer per distinct TempID looked up, and
/// for each entry the number of its answer (an upload names the TempIDs it heard many times over, and a million
/// answers, each a grant of two strings, cost more to write than the lookups they save).
struct TempIDLookups: RandomAccessCollection, Sendable {
    /// The answers, each for one or more entries.
    private let answers: [TempIDLookup]
    /// For each entry, the index of its answer in `answers`. `Int32` halves the array of a million entries, and is
    /// enough: a frame's length is a `UInt32` and an entry takes more than two of its bytes.
    private let answerOf: [Int32]

    /// Lookups whose entry `n` is answered by `answers[answerOf[n]]`.
    init(answers: [TempIDLookup], answerOf: [Int32]) {
        self.answers = answers
        self.answerOf = answerOf
    }

    var startIndex: Int { 0 }
    var endIndex: Int { answerOf.count }

    subscript(position: Int) -> TempIDLookup { answers[Int(answerOf[position])] }

    /// How many answers there are (at most one per entry; fewer where entries repeat a TempID).
    var answerCount: Int { answers.count }
}

/// The 20-digit TempIDs seen last, in a small table indexed by a hash of their halves, each with the number of its
/// answer: an entry naming one of them is answered by the same lookup. It forgets a TempID when another lands in its
/// slot, so that it costs the same whether an upload names a hundred distinct TempIDs or a million; a TempID
/// forgotten is only looked up again.
struct RecentTempIDs {
    /// Slots in the table: a contact log's last few thousand distinct TempIDs, in 80 KiB (within a core's L2 cache).
    static let slotCount = 1 << slotBits
    /// The bits of a slot's number, taken from the top of the mixed halves.
    static let slotBits = 12

    private var highs = [UInt64](repeating: .max, count: slotCount)
    private var lows = [UInt64](repeating: .max, count: slotCount)
    private var answers = [Int32](repeating: 0, count: slotCount)

    /// The answer of the TempID of `halves` if it is in the table; otherwise the one `newAnswer` makes, kept.
    /// (`.max` marks an empty slot: a half of a 20-digit TempID is below 10^10.)
    mutating func answer(for halves: (high: UInt64, low: UInt64), newAnswer: () -> Int32) -> Int32 {
        let slot = Self.slot(of: halves)
        if highs[slot] == halves.high, lows[slot] == halves.low { return answers[slot] }
        let answer = newAnswer()
        highs[slot] = halves.high
        lows[slot] = halves.low
        answers[slot] = answer
        return answer
    }

    /// The slot of the TempID of `halves`: the top bits of the halves mixed (digits drawn at random fill the slots
    /// evenly either way; a mix keeps made-up ones, counting up, from crowding into a few).
    static func slot(of halves: (high: UInt64, low: UInt64)) -> Int {
        let mixed = (halves.low ^ (halves.high &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> (64 - slotBits))
    }
}

/// The sealed (or other non-20-digit) TempIDs seen last, in a small table indexed by a few of their characters, each
/// with the number of its answer: an entry naming one of them is answered by the same AES-GCM open. Like
/// `RecentTempIDs`, it forgets a TempID when another lands in its slot, so it costs the same for an upload of a hundred
/// distinct TempIDs or a million (a dictionary of a million sealed TempIDs cost more to grow and hash than the opens it
/// saved); a TempID forgotten is only opened again.
struct RecentSealedTempIDs {
    /// Slots in the table: a contact log's last few thousand distinct TempIDs.
    static let slotCount = 1 << slotBits
    /// The bits of a slot's number.
    static let slotBits = 12

    private var tempIDs = [TempID?](repeating: nil, count: slotCount)
    private var answers = [Int32](repeating: 0, count: slotCount)

    /// The answer of `tempID` if it is in the table; otherwise the one `newAnswer` makes, kept.
    mutating func answer(for tempID: TempID, newAnswer: () -> Int32) -> Int32 {
        let slot = Self.slot(of: tempID)
        if tempIDs[slot] == tempID { return answers[slot] }
        let answer = newAnswer()
        tempIDs[slot] = tempID
        answers[slot] = answer
        return answer
    }

    /// The slot of `tempID`: the top bits of its `mixedBits` (for a sealed TempID, eight characters that encode its
    /// random nonce).
    static func slot(of tempID: TempID) -> Int {
        Int(truncatingIfNeeded: tempID.mixedBits >> (64 - slotBits))
    }
}
