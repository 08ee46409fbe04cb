#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file. Tensor data is read straight from it, never copied.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// `[size]` bytes, valid for the lifetime of this object.
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws(GGUFError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GGUFError(.io("cannot open: \(String(cString: strerror(errno)))"), at: 0) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw GGUFError(.io("cannot stat the file"), at: 0) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw GGUFError(.io("not a regular file"), at: 0) }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw GGUFError(.io("cannot memory-map the file: \(String(cString: strerror(errno)))"), at: 0)
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Drops this process's pages of `range` (the whole pages inside it) from memory: a later read maps them again
    /// from the file. For data that was copied elsewhere (so that it does not count twice in the resident memory).
    public func releasePages(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = min(range.upperBound, bytes.count) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
