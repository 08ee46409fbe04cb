// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). Used for f32 GEMM in prompt processing and training.
#include <cblas.h>
