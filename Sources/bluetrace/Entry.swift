import BlueTraceCLI

/// The `bluetrace` executable's entry point.
@main
enum Entry {
    static func main() async {
        await BlueTraceCommand.main()
    }
}
