import BlueTraceDomain

/// 13/05/2020 17:45:06 UTC: the issue time of the first TempID in the assignment's sample file.
let sampleIssueTime = Timestamp(secondsSinceEpoch: 1_589_391_906)

/// Shorthand for a timestamp from whole seconds since the epoch.
func ts(_ seconds: Int64) -> Timestamp {
    Timestamp(secondsSinceEpoch: seconds)
}

/// Shorthand for a TempID the test knows to be valid; a bad literal makes the test fail, not crash.
func tempID(_ text: String) -> TempID {
    TempID(text) ?? TempID("invalid-literal-in-test")!
}

/// SplitMix64: a small deterministic generator, so every "random" test reproduces exactly.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
