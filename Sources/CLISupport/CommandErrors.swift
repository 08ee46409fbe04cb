import ArgumentParser
import ConsoleUI

/// A failure the user can act on, printed as `error: <message>` (no stack, no type name).
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Runs a command's body the way every vpgea command reports failures: an error is printed once as
/// `error: <description>` and the process exits with status 1; ArgumentParser's own exits and validation errors
/// (printed with the usage) pass through.
public func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let exit as CleanExit {
        throw exit
    } catch let invalid as ValidationError {
        throw invalid
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}
