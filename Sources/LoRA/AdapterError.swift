/// Why an adapter file could not be used.
public struct AdapterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
