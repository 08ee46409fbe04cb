// Memory for the weights the kernels stream once per token (the interleaved copies): in 2 MiB pages where the
// operating system gives them on request (Linux's transparent huge pages in "madvise" mode, a common default), so
// that reading gigabytes per token does not walk the page tables every 4 KiB.
//
// Large copies get a mapping of their own rather than malloc's memory: advice given to a piece of malloc's heap
// outlives the free and would reach whatever malloc hands out there next.
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "CKernels.h"

static const size_t huge_page = (size_t)2 << 20;

static size_t rounded_to_huge(size_t bytes) { return (bytes + huge_page - 1) / huge_page * huge_page; }

void *vpg_alloc_streamed(size_t bytes, int huge_pages) {
    if (bytes < huge_page) return aligned_alloc(64, (bytes + 63) / 64 * 64);
    const size_t size = rounded_to_huge(bytes);
    // Map one huge page more than needed, then give back the unaligned head and the tail.
    char *raw = mmap(NULL, size + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *p = (char *)(((uintptr_t)raw + huge_page - 1) / huge_page * huge_page);
    if (p > raw) munmap(raw, (size_t)(p - raw));
    const size_t tail = (size_t)(raw + size + huge_page - (p + size));
    if (tail > 0) munmap(p + size, tail);
#if defined(MADV_HUGEPAGE)
    if (huge_pages) madvise(p, size, MADV_HUGEPAGE);   // advice: else 4 KiB pages, the same bytes
#else
    (void)huge_pages;
#endif
    return p;
}

void vpg_free_streamed(void *p, size_t bytes) {
    if (!p) return;
    if (bytes < huge_page) free(p);
    else munmap(p, rounded_to_huge(bytes));
}
