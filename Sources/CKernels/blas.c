// OpenBLAS, opened with dlopen on first use, so that its kernels follow the CPU's features rather than its model
// number. OpenBLAS picks its kernels (its "core") from the CPU model when it is loaded; a distribution's build older
// than the CPU falls back to its SSE3 core (Debian's 0.3.21 on Emerald Rapids: "Prescott"), which runs f32 products
// at a fraction of the speed of its AVX-512 ones. When OpenBLAS chooses a pre-AVX2 core on a CPU with AVX2 or
// AVX-512, it is unloaded and loaded again with OPENBLAS_CORETYPE naming the core that fits the features.
// VPGEA_BLAS_CORE=NAME asks for a core by name; OPENBLAS_CORETYPE set by the user is left alone.
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "CKernels.h"
#include "kernel_table.h"

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef char *(*corename_fn)(void);
typedef void (*threads_fn)(int);

static struct {
    void *handle;
    sgemm_fn sgemm;
    sgemv_fn sgemv;
    threads_fn set_threads;
    char core[64];
    char note[256];
} blas;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const char *const library_names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib",
                                            "/opt/homebrew/opt/openblas/lib/libopenblas.dylib"};

/// Opens OpenBLAS (with OPENBLAS_CORETYPE = core when core is not NULL) and reads its core's name.
static int open_library(const char *core) {
    const char *previous = getenv("OPENBLAS_CORETYPE");
    char *saved = previous ? strdup(previous) : NULL;
    if (core) setenv("OPENBLAS_CORETYPE", core, 1);
    for (size_t i = 0; i < sizeof library_names / sizeof library_names[0] && !blas.handle; i++)
        blas.handle = dlopen(library_names[i], RTLD_NOW | RTLD_LOCAL);
    // The variable is read while the library loads; afterwards the environment is as it was.
    if (core) {
        if (saved) setenv("OPENBLAS_CORETYPE", saved, 1);
        else unsetenv("OPENBLAS_CORETYPE");
    }
    free(saved);
    if (!blas.handle) return 0;
    blas.sgemm = (sgemm_fn)dlsym(blas.handle, "cblas_sgemm");
    blas.sgemv = (sgemv_fn)dlsym(blas.handle, "cblas_sgemv");
    blas.set_threads = (threads_fn)dlsym(blas.handle, "openblas_set_num_threads");
    corename_fn name = (corename_fn)dlsym(blas.handle, "openblas_get_corename");
    snprintf(blas.core, sizeof blas.core, "%s", name ? name() : "unknown");
    return blas.sgemm && blas.sgemv;
}

static void close_library(void) {
    dlclose(blas.handle);
    blas.handle = NULL;
}

const char *vpg_blas_better_core(const char *core, int avx2, int avx512) {
    static const char *const modern[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof modern / sizeof modern[0]; i++)
        if (strcasecmp(core, modern[i]) == 0) return NULL;
    return avx512 >= 2 ? "Cooperlake" : avx512 ? "SkylakeX" : avx2 ? "Haswell" : NULL;
}

static void load(void) {
    const char *asked = getenv("VPGEA_BLAS_CORE");
    if (asked && !*asked) asked = NULL;
    if (!open_library(NULL)) {
        snprintf(blas.core, sizeof blas.core, "none");
        snprintf(blas.note, sizeof blas.note,
                 "OpenBLAS could not be loaded (%s); install it (Debian: libopenblas-dev)", dlerror());
        return;
    }
    char chosen[64];
    snprintf(chosen, sizeof chosen, "%s", blas.core);
    const char *better = asked && strcasecmp(asked, blas.core) != 0 ? asked
                         : asked || getenv("OPENBLAS_CORETYPE") ? NULL
                         : vpg_blas_better_core(blas.core, vpg_path_supported(VPG_PATH_AVX2),
                                                vpg_cpu_avx512_foundation() + (vpg_cpu_avx512_bf16() != 0));
    if (!better) {
        snprintf(blas.note, sizeof blas.note, "%s, OpenBLAS's own choice%s", blas.core,
                 getenv("OPENBLAS_CORETYPE") ? " (OPENBLAS_CORETYPE is set)" : "");
        return;
    }
    close_library();
    if (!open_library(better)) {
        snprintf(blas.core, sizeof blas.core, "none");
        snprintf(blas.note, sizeof blas.note, "OpenBLAS could not be loaded again with core %s", better);
        return;
    }
    snprintf(blas.note, sizeof blas.note, "%s (OpenBLAS chose %s; loaded again with OPENBLAS_CORETYPE=%s, %s)",
             blas.core, chosen, better, asked ? "as VPGEA_BLAS_CORE asks" : "which fits this CPU's features");
}

int vpg_blas_available(void) {
    pthread_once(&once, load);
    return blas.handle != NULL;
}

const char *vpg_blas_core(void) {
    pthread_once(&once, load);
    return blas.core;
}

const char *vpg_blas_note(void) {
    pthread_once(&once, load);
    return blas.note;
}

/// Products without a library cannot be skipped silently: the process stops with the loader's message.
static void require(void) {
    if (vpg_blas_available()) return;
    fprintf(stderr, "error: %s\n", blas.note);
    exit(70);
}

void vpg_blas_set_threads(int threads) {
    require();
    if (blas.set_threads) blas.set_threads(threads);
}

void vpg_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
               const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    require();
    blas.sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, alpha, a,
               (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void vpg_sgemv(int64_t m, int64_t k, float alpha, const float *a, int64_t lda, const float *x, float beta, float *y) {
    require();
    blas.sgemv(ROW_MAJOR, NO_TRANS, (int)m, (int)k, alpha, a, (int)lda, x, 1, beta, y, 1);
}
