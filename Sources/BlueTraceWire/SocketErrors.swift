import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Short, human descriptions of socket errors ("Connection refused") instead of NIO's internal detail.
public enum SocketErrorText {
    /// The operating system's message for an `IOError`, or the error's own description for anything else.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }
}
