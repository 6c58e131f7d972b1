import Foundation

/// Who an official is in the audit trail: the operating-system user running the command.
enum Official {
    static var name: String {
        ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "official"
    }
}
