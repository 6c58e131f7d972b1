/// Grouped bars (one group per item, one bar per series) with a y axis at round values, as SVG inside an HTML figure
/// with its caption; every bar carries its value as hover text.
public enum BarChart {
    /// One group of bars: its label on the x axis and a value per series.
    public struct Group: Sendable {
        /// The group's label (shown under it when there is room, always in the hover text).
        public var label: String
        /// One value per series.
        public var values: [Double]

        /// Creates a group.
        public init(_ label: String, _ values: [Double]) {
            self.label = label
            self.values = values
        }
    }

    /// The chart of `groups`, the series named by `series`, or a sentence saying there is nothing to draw.
    public static func html(
        groups: [Group], series: [String], xLabel: String, yLabel: String, caption: String
    ) -> String {
        guard !groups.isEmpty else { return "<p>No data to chart.</p>" }
        let highest = groups.flatMap(\.values).max() ?? 1
        let frame = ChartFrame(x: NiceScale(minimum: 0, maximum: 1), y: NiceScale(minimum: 0, maximum: max(highest, 1)))
        let slot = frame.plotWidth / Double(groups.count)
        // Group labels when they fit (about 40 px each), else every n-th.
        let every = max(1, Int((40 / slot).rounded(.up)))
        let ticks = groups.enumerated().compactMap { index, group -> (Double, String)? in
            index % every == 0 ? (ChartFrame.left + slot * (Double(index) + 0.5), group.label) : nil
        }
        var svg = frame.open(xLabel: xLabel, yLabel: yLabel, xTicks: ticks)
        let barWidth = slot * 0.8 / Double(max(series.count, 1))
        for (index, group) in groups.enumerated() {
            for (bar, value) in group.values.enumerated() {
                let x = ChartFrame.left + slot * Double(index) + slot * 0.1 + barWidth * Double(bar)
                let top = frame.py(value)
                svg +=
                    "<rect x=\"\(x)\" y=\"\(top)\" width=\"\(barWidth)\" height=\"\(frame.py(0) - top)\" "
                    + "fill=\"\(ChartFrame.color(bar))\"><title>"
                    + HTML.escape("\(group.label) · \(bar < series.count ? series[bar] : "value"): ")
                    + HTML.escape(LineChart.value(value)) + "</title></rect>"
            }
        }
        svg += frame.legend(series)
        return svg + frame.close(caption: caption)
    }
}
