/// A length of time typed on the command line: `90`, `90s`, `15m`, `2h` or `3d`.
struct TimeSpan {
    /// The length in seconds.
    let seconds: Int64

    /// Reads `text`; `nil` when it is not a positive whole number with an optional unit.
    init?(text: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let multiplier = units[last] {
            unit = multiplier
            digits = digits.dropLast()
        }
        guard let number = Int64(digits), number >= 1 else { return nil }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        self.seconds = seconds
    }
}
