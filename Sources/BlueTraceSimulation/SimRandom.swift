/// Deterministic randomness for the simulation: a counter-based hash, so every draw depends only on the seed and on
/// what it is for (phone, step, purpose), never on the order threads run in.
struct SimRandom {
    /// The 64-bit finaliser of SplitMix64: a good mixing function.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A hash of the seed and up to four keys.
    @inline(__always)
    static func hash(_ seed: UInt64, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0) -> UInt64 {
        mix(mix(mix(mix(seed ^ mix(a)) ^ b) ^ c) ^ d)
    }

    /// A uniform number in [0, 1) from a hash.
    @inline(__always)
    static func unit(_ hash: UInt64) -> Double {
        Double(hash >> 11) * 0x1.0p-53
    }

    /// A standard normal number from two hashes (Box–Muller).
    @inline(__always)
    static func normal(_ h1: UInt64, _ h2: UInt64) -> Double {
        let u1 = max(unit(h1), 1e-300)
        let u2 = unit(h2)
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }
}

/// A sequential generator (SplitMix64) for set-up work done once, in order.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SimRandom.mix(state &- 0x9E37_79B9_7F4A_7C15)
    }
}

#if canImport(Glibc)
    import Glibc
    @inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
    @inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) func _exp2(_ x: Double) -> Double { Glibc.exp2(x) }
    @inline(__always) func _expm1(_ x: Double) -> Double { Glibc.expm1(x) }
    @inline(__always) func _log10(_ x: Double) -> Double { Glibc.log10(x) }
#elseif canImport(Darwin)
    import Darwin
    @inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
    @inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
    @inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
    @inline(__always) func _exp2(_ x: Double) -> Double { Darwin.exp2(x) }
    @inline(__always) func _expm1(_ x: Double) -> Double { Darwin.expm1(x) }
    @inline(__always) func _log10(_ x: Double) -> Double { Darwin.log10(x) }
#endif
