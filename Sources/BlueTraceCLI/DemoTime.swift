import BlueTraceDomain

/// How time passes in the demo: the system clock with real waits, or a manual clock the script moves (for tests).
///
/// The demo's story has two steps about time (a TempID expiring, a block ending) and one that must happen before
/// time passes (the right password refused while the block lasts). On the system clock a machine slow enough can
/// let the block end before that step; on a manual clock time moves only where the script says it does.
public struct DemoTime: Sendable {
    /// The clock the server and every phone read.
    let clock: any WallClock
    /// Lets `seconds` pass on `clock`.
    let pass: @Sendable (_ seconds: Int64) async throws -> Void

    /// The operating system's clock; passing time is waiting for it.
    public static let real = DemoTime(clock: SystemWallClock()) { seconds in
        try await Task.sleep(for: .seconds(seconds))
    }

    /// A manual clock, moved forward at once wherever the story lets time pass.
    public static func manual(_ clock: ManualWallClock) -> DemoTime {
        DemoTime(clock: clock) { seconds in clock.advance(by: seconds) }
    }
}
