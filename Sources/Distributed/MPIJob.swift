import CDistributed
import Training

/// An Open MPI job (`mpirun -np N vpgea-train …`): every rank runs the same command; gradient sums go through
/// MPI_Allreduce. Open MPI is opened at run time, so a binary started without mpirun runs alone and needs no MPI.
public final class MPIJob: Collective {
    public let rank: Int
    public let size: Int

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// The job this process belongs to: an MPI job when started by mpirun, else a single process.
    public static func join() throws -> any Collective {
        switch vpg_mpi_start() {
        case 0: return SingleProcess()
        case 1: return MPIJob(rank: Int(vpg_mpi_rank()), size: Int(vpg_mpi_size()))
        default: throw DistributedError(String(cString: vpg_mpi_error()))
        }
    }

    public func sum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        guard vpg_mpi_sum_floats(buffer, Int64(count)) == 0 else { throw DistributedError("MPI_Allreduce failed") }
    }

    public func sum(_ values: [Double]) throws -> [Double] {
        var v = values
        guard vpg_mpi_sum_doubles(&v, Int64(v.count)) == 0 else { throw DistributedError("MPI_Allreduce failed") }
        return v
    }

    /// Leaves the job at the end of a run.
    public func finish() { vpg_mpi_finish() }

    /// Ends every rank of the job now (after an error on this one), so that none waits forever in a sum.
    public static func abortJob(code: Int32 = 1) -> Never {
        vpg_mpi_abort(code)
        fatalError("unreachable")
    }
}

public struct DistributedError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
