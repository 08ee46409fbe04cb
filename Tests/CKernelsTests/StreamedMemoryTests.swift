import CKernels
import Foundation
import Testing

/// The interleaved copies' memory (vpg_alloc_streamed): aligned to 2 MiB from that size on, every byte usable, and on
/// Linux advised into huge pages exactly when asked (the mapping that holds it carries the "hg" flag in
/// /proc/self/smaps, whatever the system's THP mode; whether the kernel then finds free huge pages is its own affair).
@Suite struct StreamedMemoryTests {
    /// The VmFlags of the mapping that contains `address`, from /proc/self/smaps.
    static func flags(of address: UInt) throws -> [String] {
        // Read to the end: procfs reports a size of 0, which a whole-file read takes at its word.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= address && address < bounds[1]
            } else if inside, fields.first == "VmFlags:" {
                return fields.dropFirst().map(String.init)
            }
        }
        return []
    }

    @Test(arguments: [1, 0])
    func largeCopiesAreAlignedAndAdvisedAsAsked(_ huge: Int32) throws {
        let bytes = 6 << 20 | 100
        let p = try #require(vpg_alloc_streamed(bytes, huge))
        defer { vpg_free_streamed(p, bytes) }
        #expect(UInt(bitPattern: p) % (2 << 20) == 0)
        p.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytes)
        #expect(p.load(fromByteOffset: bytes - 1, as: UInt8.self) == 0xA5)
        #if os(Linux)
        let flags = try Self.flags(of: UInt(bitPattern: p))
        #expect(!flags.isEmpty, "no mapping found for the allocation")
        #expect(flags.contains("hg") == (huge != 0), "VmFlags \(flags)")
        #endif
    }

    /// The advice ends with the copy: memory handed out after a huge-page copy was freed carries no "hg" unless asked
    /// (with the copies in malloc's heap, the advice outlived the free and reached the next allocation there).
    @Test func adviceEndsWithTheCopy() throws {
        vpg_keep_large_allocations()   // as the runtime sets malloc up: copies this size would come from its heap
        let bytes = 6 << 20 | 100
        for _ in 0..<3 {
            let advised = try #require(vpg_alloc_streamed(bytes, 1))
            vpg_free_streamed(advised, bytes)
            let plain = try #require(vpg_alloc_streamed(bytes, 0))
            defer { vpg_free_streamed(plain, bytes) }
            #if os(Linux)
            #expect(!(try Self.flags(of: UInt(bitPattern: plain))).contains("hg"))
            #endif
        }
    }

    @Test func smallCopiesTakeOrdinaryMemory() throws {
        let p = try #require(vpg_alloc_streamed(1000, 1))
        defer { vpg_free_streamed(p, 1000) }
        #expect(UInt(bitPattern: p) % 64 == 0)
        p.initializeMemory(as: UInt8.self, repeating: 1, count: 1000)
    }
}
