import BlueTraceDomain
import Foundation
import Testing

@testable import BlueTraceSimulation

@Suite("Risk scoring")
struct RiskScoringTests {
    /// The world of `SimulatorTests.handBuiltScenario` (no noise, no offsets, perfect detection), scored by hand with
    /// attenuation = −17.4 dBm − RSSI and the Corona-Warn-App buckets (< 55 dB: 1, 55–63: 0.5, above: 0):
    /// - B, 1 m for 20 min: RSSI −68, 50.6 dB → 20 minutes, 20 weighted; a true close contact.
    /// - D, 1.5 m for 10 min: RSSI −72.40, 55.0 dB → 10 minutes, 5 weighted.
    /// - F, 3 m for 40 min: RSSI −79.93, 62.5 dB → 40 minutes, 20 weighted.
    /// - E (a true close contact) has no app, C is never logged. Truth = {B, E}.
    @Test("Precision and recall of both scorings at each threshold, as computed by hand")
    func handScored() async throws {
        var (configuration, scenario) = SimulatorTests.handBuiltWorld()
        var scoring = RiskScoring()
        scoring.referencePower = -17.4
        configuration.riskScoring = scoring
        let report = try await Simulator(configuration: configuration, scenario: scenario).run()
        let risk = try #require(report.risk)
        func point(_ curve: [RiskCurve.Point], _ threshold: Double) -> RiskCurve.Point? {
            curve.first { $0.threshold == threshold }
        }
        // Counted encounters at 15 minutes are the authority's rule: the report's own precision and recall.
        #expect(point(risk.encounters, 15)?.precision == report.precision)
        #expect(point(risk.encounters, 15)?.recall == report.recall)
        #expect(point(risk.encounters, 10) == .init(threshold: 10, precision: 1.0 / 3.0, recall: 0.5))
        #expect(point(risk.encounters, 30) == .init(threshold: 30, precision: 0, recall: 0))
        #expect(point(risk.weighted, 5) == .init(threshold: 5, precision: 1.0 / 3.0, recall: 0.5))
        #expect(point(risk.weighted, 20) == .init(threshold: 20, precision: 0.5, recall: 0.5))
        #expect(point(risk.weighted, 25) == .init(threshold: 25, precision: nil, recall: 0))
        #expect(ReportWriter.html(report).contains("Risk scoring: precision against recall"))
        #expect(report.summary.contains("Risk scoring: threshold (min)"))
    }

    @Test("The calibrated reference power puts 55 dB at 1.5 m and about 63 dB at 3 m on the default radio")
    func calibration() {
        let scoring = RiskScoring.calibrated(for: SimulationConfiguration())
        let radio = Radio(SimulationConfiguration())
        #expect(abs(scoring.referencePower - radio.meanRSSI(distance: 1.5) - 55) < 1e-9)
        #expect(abs(scoring.referencePower - radio.meanRSSI(distance: 3) - 62.5) < 0.1)
        #expect(scoring.weight(rssi: radio.meanRSSI(distance: 1)) == 1)
        #expect(scoring.weight(rssi: radio.meanRSSI(distance: 2)) == 0.5)
        #expect(scoring.weight(rssi: radio.meanRSSI(distance: 5)) == 0)
    }
}
