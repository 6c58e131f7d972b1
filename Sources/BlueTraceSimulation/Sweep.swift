/// A parameter sweep: the same scenario run for each value of one parameter (`adoption=0.2:1.0:0.2`).
public struct Sweep: Sendable, Hashable {
    /// Parameters that can be swept, and how each sets the configuration.
    public static let parameters: [String: @Sendable (inout SimulationConfiguration, Double) -> Void] = [
        "adoption": { $0.adoption = $1 },
        "loss": { $0.loss = $1 },
        "ios-share": { $0.iosShare = $1 },
        "detect-ios-ios": { $0.detectIOSIOS = $1 },
        "rssi-threshold": { $0.rssiThreshold = $1 },
        "close-contact-minutes": { $0.closeContactMinutes = $1 },
        "phones": { $0.phones = Int($1) },
        "radio-range": { $0.radioRange = $1 },
        "detect-mixed": { $0.detectMixed = $1 },
        "detect-android-android": { $0.detectAndroidAndroid = $1 },
        // The epidemic's (with --epidemic).
        "detection": { $0.epidemic?.detection = $1 },
        "test-delay": { $0.epidemic?.testDelayHours = $1 },
        "compliance": { $0.epidemic?.compliance = $1 },
        "isolation-delay": { $0.epidemic?.isolationDelayHours = $1 },
        "transmission-per-minute": { $0.epidemic?.transmissionPerMinute = $1 },
    ]

    /// The parameters that only mean something with an epidemic.
    public static let epidemicParameters: Set<String> = [
        "detection", "test-delay", "compliance", "isolation-delay", "transmission-per-minute",
    ]

    /// The swept parameter's name.
    public var parameter: String
    /// The values, in order.
    public var values: [Double]

    /// Parses `name=from:to:step`, or says what is wrong.
    public init(parsing text: String) throws(SimulationError) {
        let parts = text.split(separator: "=", maxSplits: 1)
        let known = Self.parameters.keys.sorted().joined(separator: ", ")
        guard parts.count == 2, Self.parameters[String(parts[0])] != nil else {
            throw .invalidConfiguration("--sweep takes NAME=FROM:TO:STEP with NAME one of \(known)")
        }
        let numbers = parts[1].split(separator: ":").compactMap { Double($0) }
        guard numbers.count == 3, numbers[2] != 0, (numbers[1] - numbers[0]) / numbers[2] >= 0,
            (numbers[1] - numbers[0]) / numbers[2] <= 1000
        else {
            throw .invalidConfiguration("--sweep values must be FROM:TO:STEP, e.g. adoption=0.2:1.0:0.2")
        }
        parameter = String(parts[0])
        let count = Int(((numbers[1] - numbers[0]) / numbers[2] + 1e-9).rounded(.down)) + 1
        values = (0..<count).map { numbers[0] + Double($0) * numbers[2] }
    }

    /// The configuration for one value.
    public func configuration(_ base: SimulationConfiguration, value: Double) -> SimulationConfiguration {
        var configuration = base
        Self.parameters[parameter]?(&configuration, value)
        return configuration
    }

    public static func == (lhs: Sweep, rhs: Sweep) -> Bool {
        lhs.parameter == rhs.parameter && lhs.values == rhs.values
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(parameter)
        hasher.combine(values)
    }
}
