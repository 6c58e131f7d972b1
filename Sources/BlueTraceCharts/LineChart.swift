/// A line chart of one or more series against a shared x axis, as SVG inside an HTML figure with its caption. Points
/// carry their values as hover text (`<title>`); undefined values are simply not given, never drawn as 0 or 1.
public enum LineChart {
    /// One line of a chart.
    public struct Series: Sendable {
        /// How a series is drawn.
        public enum Style: Sendable { case line, points, lineAndPoints }

        /// The name in the legend and in the hover text.
        public var name: String
        /// The points, in x order.
        public var points: [(x: Double, y: Double)]
        /// How it is drawn.
        public var style: Style

        /// Creates a series.
        public init(_ name: String, _ points: [(x: Double, y: Double)], style: Style = .line) {
            self.name = name
            self.points = points
            self.style = style
        }
    }

    /// An axis: its label (with its unit) and, if fixed, its range (recall is always 0–1).
    public struct Axis: Sendable {
        /// The label, with the unit.
        public var label: String
        /// The range to show whatever the data; `nil`: round values around the data.
        public var range: ClosedRange<Double>?

        /// Creates an axis.
        public init(_ label: String, range: ClosedRange<Double>? = nil) {
            self.label = label
            self.range = range
        }
    }

    /// The chart of `series`, or a sentence saying there is nothing to draw.
    public static func html(series: [Series], x: Axis, y: Axis, caption: String) -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return "<p>No data to chart.</p>" }
        let xs = all.map(\.x)
        let ys = all.map(\.y)
        let frame = ChartFrame(
            x: NiceScale(minimum: x.range?.lowerBound ?? xs.min()!, maximum: x.range?.upperBound ?? xs.max()!),
            y: NiceScale(minimum: y.range?.lowerBound ?? min(0, ys.min()!), maximum: y.range?.upperBound ?? ys.max()!))
        var svg = frame.open(xLabel: x.label, yLabel: y.label)
        for (index, line) in series.enumerated() {
            let color = ChartFrame.color(index)
            if line.style != .points, line.points.count > 1 {
                let path = line.points.map { "\(frame.px($0.x)),\(frame.py($0.y))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            }
            let radius = line.style == .line ? 2.5 : 3.5
            for point in line.points {
                // Every point answers hover with its values; on a plain line the dots are small.
                svg +=
                    "<circle cx=\"\(frame.px(point.x))\" cy=\"\(frame.py(point.y))\" r=\"\(radius)\" fill=\"\(color)\">"
                    + "<title>\(HTML.escape("\(line.name): \(x.label) \(Self.value(point.x)) · \(y.label) "))"
                    + "\(HTML.escape(Self.value(point.y)))</title></circle>"
            }
        }
        svg += frame.legend(series.map(\.name))
        return svg + frame.close(caption: caption)
    }

    /// A value as hover text shows it: whole numbers without decimals, others with three significant digits.
    static func value(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.3g", value)
        if text.hasPrefix("0.") || text.hasPrefix("-0.") { text = String(format: "%.3f", value) }
        return text
    }
}
