import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How many heaps glibc's allocator keeps: at most one per core for the server's processes.
///
/// By default glibc gives each thread that contends for the allocator a heap of its own, up to eight per core (16
/// here). A large upload is read and judged on several threads (event loop, Dispatch's workers, the store's queues),
/// and memory freed in one heap is not reused by another: 1,000,000-entry uploads then took the server to 386–404 MiB
/// against 357–363 MiB at one heap per core, as fast (one heap in all: 351 MiB, but a quarter slower, the threads
/// waiting for it; docs/BENCHMARKS.md, round 8). A `GLIBC_TUNABLES` setting of `glibc.malloc.arena_max` wins.
enum MallocArenas {
    /// glibc's `M_ARENA_MAX` (malloc.h, which Swift's Glibc module does not export).
    private static let arenaMaximum: Int32 = -8

    /// Limits the heaps to one per core, unless the environment already sets their number.
    static func limitToCores() {
        #if canImport(Glibc)
            if let tunables = ProcessInfo.processInfo.environment["GLIBC_TUNABLES"],
                tunables.contains("glibc.malloc.arena_max")
            {
                return
            }
            // `mallopt` looked up at run time: a C library without it (musl) is left as it is.
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
            _ = mallopt(arenaMaximum, Int32(max(1, ProcessInfo.processInfo.activeProcessorCount)))
        #endif
    }
}
