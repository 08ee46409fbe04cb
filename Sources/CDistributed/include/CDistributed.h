#ifndef VPGEA_CDISTRIBUTED_H
#define VPGEA_CDISTRIBUTED_H
#include <stdint.h>

// Open MPI, opened at run time: a process started by mpirun joins its job; any other runs alone and never needs
// MPI installed. Only what data-parallel training needs: sums over all ranks, in place.

/// Joins the MPI job when the process was started by mpirun (OMPI_COMM_WORLD_SIZE is set): returns 1 when it
/// did, 0 when not started by mpirun, -1 on an error (vpg_mpi_error says which).
int vpg_mpi_start(void);
int vpg_mpi_rank(void);
int vpg_mpi_size(void);
/// buf[0..<count] = its sum over all ranks (every rank gets the same bits). 0 on success.
int vpg_mpi_sum_floats(float *buf, int64_t count);
int vpg_mpi_sum_doubles(double *buf, int64_t count);
/// Waits for every rank.
int vpg_mpi_barrier(void);
/// Leaves the job (MPI_Finalize).
void vpg_mpi_finish(void);
/// Ends the whole job at once (MPI_Abort), after a fatal error on this rank.
void vpg_mpi_abort(int code);
const char *vpg_mpi_error(void);
#endif
