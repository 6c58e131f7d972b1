import BlueTraceConsole
import Foundation
import Testing

/// The request path's histogram: a sample lands in the first bucket whose bound it does not exceed, the rendering is
/// Prometheus' (cumulative buckets, +Inf, sum, count), and samples from many threads at once are all counted.
@Suite("Latency histogram")
struct LatencyHistogramTests {
    @Test("Samples fall in the first bucket they fit, bounds inclusive, and render cumulatively")
    func buckets() {
        let histogram = LatencyHistogram(
            name: "request_seconds", labels: [("operation", "login")],
            buckets: [.microseconds(100), .milliseconds(1), .seconds(1)])
        for nanoseconds: Int64 in [1, 100_000, 100_001, 1_000_000, 2_000_000_000] {
            histogram.record(nanoseconds: nanoseconds)
        }
        var text = ""
        histogram.render(into: &text)
        #expect(
            text == """
                request_seconds_bucket{operation="login",le="0.0001"} 2
                request_seconds_bucket{operation="login",le="0.001"} 4
                request_seconds_bucket{operation="login",le="1.0"} 4
                request_seconds_bucket{operation="login",le="+Inf"} 5
                request_seconds_sum{operation="login"} 2.001200002
                request_seconds_count{operation="login"} 5

                """)
        #expect(histogram.count == 5)
    }

    @Test("Without labels the lines carry only le")
    func unlabelled() {
        let histogram = LatencyHistogram(name: "commit_seconds", labels: [], buckets: [.milliseconds(5)])
        histogram.record(nanoseconds: 10_000_000)
        var text = ""
        histogram.render(into: &text)
        #expect(
            text == """
                commit_seconds_bucket{le="0.005"} 0
                commit_seconds_bucket{le="+Inf"} 1
                commit_seconds_sum 0.01
                commit_seconds_count 1

                """)
    }

    @Test("Samples recorded on many threads at once are all counted, none twice")
    func concurrentSamples() {
        let histogram = LatencyHistogram(
            name: "request_seconds", labels: [], buckets: [.microseconds(50), .milliseconds(1)])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for sample in 0..<25_000 { histogram.record(nanoseconds: Int64((sample + thread) % 3) * 600_000) }
        }
        #expect(histogram.count == 200_000)
        var text = ""
        histogram.render(into: &text)
        #expect(text.contains(#"request_seconds_bucket{le="+Inf"} 200000"#))
    }
}
