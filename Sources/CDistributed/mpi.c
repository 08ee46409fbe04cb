// Open MPI through dlopen: its handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are the addresses of exported
// globals (mpi.h: OMPI_PREDEFINED_GLOBAL), so the few calls needed here work without its headers at build time.
#include "CDistributed.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *handle;
static struct {
    int (*init)(int *, char ***);
    int (*rank)(handle, int *);
    int (*size)(handle, int *);
    int (*allreduce)(const void *, void *, int, handle, handle, handle);
    int (*barrier)(handle);
    int (*finalize)(void);
    int (*abort)(handle, int);
    handle world, type_float, type_double, op_sum;
    int rank_, size_;
} mpi;
static char message[512] = "";

#define IN_PLACE ((void *)1)

int vpg_mpi_start(void) {
    if (!getenv("OMPI_COMM_WORLD_SIZE")) return 0;
    void *lib = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) lib = dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(message, sizeof message, "started by mpirun, but Open MPI's libmpi cannot be opened (%s); "
                 "install it (Debian: openmpi-bin)", dlerror());
        return -1;
    }
#define SYM(field, name)                                                                                           \
    if (!(*(void **)&mpi.field = dlsym(lib, name))) {                                                              \
        snprintf(message, sizeof message, "libmpi lacks %s: is it Open MPI?", name);                              \
        return -1;                                                                                                 \
    }
    SYM(init, "MPI_Init") SYM(rank, "MPI_Comm_rank") SYM(size, "MPI_Comm_size") SYM(allreduce, "MPI_Allreduce")
    SYM(barrier, "MPI_Barrier") SYM(finalize, "MPI_Finalize") SYM(abort, "MPI_Abort")
    SYM(world, "ompi_mpi_comm_world") SYM(type_float, "ompi_mpi_float") SYM(type_double, "ompi_mpi_double")
    SYM(op_sum, "ompi_mpi_op_sum")
#undef SYM
    if (mpi.init(NULL, NULL) != 0 || mpi.rank(mpi.world, &mpi.rank_) != 0 || mpi.size(mpi.world, &mpi.size_) != 0) {
        snprintf(message, sizeof message, "MPI_Init failed");
        return -1;
    }
    return 1;
}

int vpg_mpi_rank(void) { return mpi.init ? mpi.rank_ : 0; }
int vpg_mpi_size(void) { return mpi.init ? mpi.size_ : 1; }

/// MPI counts are ints: large buffers go in pieces of 2^30 elements.
static int sum(void *buf, int64_t count, size_t element, handle type) {
    if (!mpi.init) return 0;
    for (int64_t at = 0; at < count; at += 1 << 30) {
        const int n = count - at < (1 << 30) ? (int)(count - at) : 1 << 30;
        if (mpi.allreduce(IN_PLACE, (char *)buf + at * element, n, type, mpi.op_sum, mpi.world) != 0) return -1;
    }
    return 0;
}

int vpg_mpi_sum_floats(float *buf, int64_t count) { return sum(buf, count, sizeof(float), mpi.type_float); }
int vpg_mpi_sum_doubles(double *buf, int64_t count) { return sum(buf, count, sizeof(double), mpi.type_double); }
int vpg_mpi_barrier(void) { return mpi.init ? mpi.barrier(mpi.world) : 0; }
void vpg_mpi_finish(void) {
    if (mpi.init) mpi.finalize();
}
void vpg_mpi_abort(int code) {
    if (mpi.init) mpi.abort(mpi.world, code);
    exit(code);
}
const char *vpg_mpi_error(void) { return message; }
