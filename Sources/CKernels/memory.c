// Memory for the weights the kernels stream once per token (the interleaved copies): in 2 MiB pages where the
// operating system gives them on request (Linux's transparent huge pages in "madvise" mode, a common default), so
// that reading gigabytes per token does not walk the page tables every 4 KiB.
#include <stdlib.h>
#include <sys/mman.h>
#include "CKernels.h"

void *vpg_alloc_streamed(size_t bytes, int huge_pages) {
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge) return aligned_alloc(64, (bytes + 63) / 64 * 64);
    const size_t size = (bytes + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, size);
#if defined(MADV_HUGEPAGE)
    if (p && huge_pages) madvise(p, size, MADV_HUGEPAGE);   // advice: else 4 KiB pages, the same bytes
#endif
    return p;
}

void vpg_free_streamed(void *p) { free(p); }
