/// The console could not listen on the requested address.
public struct OperationsBindError: Error, CustomStringConvertible {
    /// The host asked for.
    public var host: String
    /// The port asked for.
    public var port: Int
    /// What the operating system said.
    public var underlying: any Error

    public var description: String {
        "cannot listen on \(host):\(port) for the HTTP console (\(underlying)). Is another server using the port? "
            + "Choose another --http-port (or --http-host)."
    }
}
