import CKernels

/// Process-wide memory settings that the kernels' buffers need.
public enum KernelMemory {
    /// Serves large allocations (up to 64 MiB) from the heap instead of fresh mappings, so that per-token buffers
    /// do not cost a page-zeroing round trip through the kernel each time (glibc only; elsewhere a no-op).
    public static func keepLargeAllocations() { vpg_keep_large_allocations() }
}
