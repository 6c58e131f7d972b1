import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// glibc's allocator set up for the server's processes: at most one heap per core, and large blocks always mapped
/// on their own.
///
/// By default glibc gives each thread that contends for the allocator a heap of its own, up to eight per core (16
/// here). A large upload is read and judged on several threads (event loop, Dispatch's workers, the store's queues),
/// and memory freed in one heap is not reused by another: 1,000,000-entry uploads then took the server to 386–404 MiB
/// against 357–363 MiB at one heap per core, as fast (one heap in all: 351 MiB, but a quarter slower, the threads
/// waiting for it; docs/BENCHMARKS.md, round 8).
///
/// glibc also raises its threshold for mapping a block on its own each time such a block is freed, up to 32 MiB: after
/// the first large upload, an upload's arrays of up to 32 MiB (its parts, its lookups) come from the heaps, and stay
/// there, split up, once freed. Fixed at glibc's starting value (128 KiB), every such array is given back to the system
/// when freed: five uploads in a row then peak at 320 MiB instead of 358–378 MiB, as fast (round 9).
///
/// Small blocks freed stay in the heaps: after a 1,000,000-entry upload (each of its TempIDs a string of its own, as
/// they then were), 125 MiB of freed memory was still resident until the next upload reused it, so each upload's peak
/// stood on the last one's leftovers. `releaseFreedMemory` gives it back (`malloc_trim`), and the server calls it
/// after each large upload (`AuthorityResponder`): docs/BENCHMARKS.md, round 11.
///
/// A `GLIBC_TUNABLES` setting of `glibc.malloc.arena_max` or `glibc.malloc.mmap_threshold` wins over its part here.
public enum MallocTuning {
    /// glibc's `M_ARENA_MAX` (malloc.h, which Swift's Glibc module does not export).
    private static let arenaMaximum: Int32 = -8
    /// glibc's `M_MMAP_THRESHOLD`.
    private static let mapThreshold: Int32 = -3
    /// Blocks of at least this many bytes are mapped on their own: glibc's starting value, kept.
    static let mappedFrom: Int32 = 128 * 1024

    /// Limits the heaps to one per core and fixes the threshold for mapping blocks on their own, unless the
    /// environment sets them.
    public static func apply() {
        #if canImport(Glibc)
            let tunables = ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] ?? ""
            // `mallopt` looked up at run time: a C library without it (musl) is left as it is.
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
            if !tunables.contains("glibc.malloc.arena_max") {
                _ = mallopt(arenaMaximum, Int32(max(1, ProcessInfo.processInfo.activeProcessorCount)))
            }
            if !tunables.contains("glibc.malloc.mmap_threshold") {
                _ = mallopt(mapThreshold, mappedFrom)
            }
        #endif
    }

    /// Gives the pages of every free block in glibc's heaps back to the system (`malloc_trim(0)`); does nothing
    /// with another C library. Takes each heap's lock in turn, for a few milliseconds after a large upload.
    static func releaseFreedMemory() {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
            let mallocTrim = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
            _ = mallocTrim(0)
        #endif
    }
}
