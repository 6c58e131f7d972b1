import Foundation

/// An axis's range and ticks at round values ("nice numbers": steps of 1, 2 or 5 times a power of ten), covering the
/// data from a round value below it to one above it.
public struct NiceScale: Sendable, Hashable {
    /// The axis's first value.
    public let lower: Double
    /// The axis's last value.
    public let upper: Double
    /// The distance between ticks.
    public let step: Double

    /// A scale covering `minimum`…`maximum` with at most `maximumTicks` ticks (at least 2).
    public init(minimum: Double, maximum: Double, maximumTicks: Int = 6) {
        precondition(minimum.isFinite && maximum.isFinite && maximumTicks >= 2)
        var low = min(minimum, maximum)
        var high = max(minimum, maximum)
        if high - low < 1e-12 {
            // One value: a unit around it (or from 0 up to it), so the axis still has a scale.
            if low == 0 { high = 1 } else if low > 0 { low = 0 } else { high = 0 }
        }
        var step = Self.niceNumber((high - low) / Double(maximumTicks - 1))
        while ((high / step).rounded(.up) - (low / step).rounded(.down)) > Double(maximumTicks - 1) {
            step = Self.niceNumber(step * 1.01)
        }
        self.step = step
        lower = (low / step).rounded(.down) * step
        upper = (high / step).rounded(.up) * step
    }

    /// The tick values, `lower` to `upper`.
    public var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded()) + 1
        return (0..<count).map { Self.clean(lower + Double($0) * step) }
    }

    /// A tick's label: as many decimals as the step needs, no more (0.2, not 0.20000000000000001; 5000, not 5000.0).
    public func label(_ value: Double) -> String {
        let decimals = max(0, Int(-Foundation.log10(step).rounded(.down)))
        let text = String(format: "%.\(decimals)f", Self.clean(value))
        return text == "-0" ? "0" : text
    }

    /// Where `value` falls between `lower` (0) and `upper` (1).
    public func fraction(_ value: Double) -> Double {
        (value - lower) / (upper - lower)
    }

    /// The nice number not below `value`: 1, 2 or 5 times a power of ten.
    static func niceNumber(_ value: Double) -> Double {
        let power = pow(10, Foundation.log10(value).rounded(.down))
        let fraction = value / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * power
    }

    /// `value` without the binary noise of repeated addition (0.30000000000000004 → 0.3).
    private static func clean(_ value: Double) -> Double {
        (value * 1e9).rounded() / 1e9
    }
}
