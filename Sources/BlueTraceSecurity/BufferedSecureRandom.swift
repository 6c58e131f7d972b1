#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The operating system's cryptographically secure random numbers, fetched 4 KiB at a time: one system call per 512
/// numbers instead of one per number, for the TempIDs the server draws on every download.
///
/// Every byte comes from the kernel's generator (`/dev/urandom`, `arc4random_buf` on Apple systems) and is used once.
/// Not shared between threads: keep one per owner, behind the owner's lock.
public struct BufferedSecureRandom: RandomNumberGenerator, Sendable {
    private static let count = 512
    private var words = [UInt64](repeating: 0, count: BufferedSecureRandom.count)
    private var position = BufferedSecureRandom.count

    /// Creates a generator; its first draw fetches the first 4 KiB.
    public init() {}

    public mutating func next() -> UInt64 {
        if position == Self.count {
            words.withUnsafeMutableBytes { Self.fill($0) }
            position = 0
        }
        defer { position += 1 }
        return words[position]
    }

    #if !canImport(Darwin)
        /// The kernel's generator, opened once for the process.
        private static let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
    #endif

    private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        #if canImport(Darwin)
            arc4random_buf(buffer.baseAddress, buffer.count)
        #else
            var filled = 0
            while urandom >= 0, filled < buffer.count {
                let result = read(urandom, buffer.baseAddress! + filled, buffer.count - filled)
                if result > 0 {
                    filled += result
                } else if result < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            guard filled < buffer.count else { return }
            // No /dev/urandom (a sandbox without /dev): the standard library's generator reads the same source by a
            // system call.
            var system = SystemRandomNumberGenerator()
            for offset in stride(from: filled, to: buffer.count, by: 8) {
                withUnsafeBytes(of: system.next()) { bytes in
                    for index in 0..<min(8, buffer.count - offset) { buffer[offset + index] = bytes[index] }
                }
            }
        #endif
    }
}
