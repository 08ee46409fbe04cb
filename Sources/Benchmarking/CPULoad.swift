import Foundation

/// Compares the machine's busy CPU time with this process's own, to detect other work during a run.
public struct CPULoad {
    private let startBusy: Double, startOwn: Double, startWall: Double

    public init() {
        startBusy = CPULoad.machineBusySeconds()
        startOwn = CPULoad.ownSeconds()
        startWall = CPULoad.now()
    }

    /// Other processes' CPU seconds during the interval, per available core-second.
    public func foreignFraction() -> Double {
        let busy = CPULoad.machineBusySeconds() - startBusy, own = CPULoad.ownSeconds() - startOwn
        let wall = CPULoad.now() - startWall
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        return wall > 0 ? max(0, busy - own) / (wall * cores) : 0
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// Busy seconds of all CPUs since boot, from /proc/stat (user + nice + system + irq + softirq + steal).
    static func machineBusySeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard f.count >= 8 else { return 0 }
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / Double(ticks)
    }

    static func ownSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
