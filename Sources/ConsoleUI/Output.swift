#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of what the tools write.
public enum Output {
    /// Only errors are written (the non-leading ranks of an MPI job, which would repeat rank 0's lines).
    nonisolated(unsafe) public static var quiet = false
}

/// Writes text to standard error, unbuffered (only errors when `Output.quiet`).
public func writeStandardError(_ text: String) {
    if Output.quiet && !text.hasPrefix("error") { return }
    var text = text
    text.withUTF8 { bytes in
        var done = 0
        while done < bytes.count {
            let n = write(STDERR_FILENO, bytes.baseAddress! + done, bytes.count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

/// Writes a line to standard error.
public func printError(_ message: String) {
    writeStandardError(message + "\n")
}
