using System.Diagnostics;

namespace Res2Net.Gpu;

/// <summary>
/// One forward timed launch by launch (<see cref="DeviceNetwork.Profile"/>): the stream is synchronized after every
/// kernel, so each row is that kernel's own time, and the total is slower than a normal forward (which queues them all
/// and waits once). Each row also says how the launch was cut: groups, threads per group and the barriers each group
/// passes (<c>Group.Barrier</c> calls in the kernel), which is what costs most on ILGPU's CPU accelerator, where a
/// group's threads are operating-system threads and a barrier is a <see cref="Barrier"/> among them.
/// </summary>
public sealed class DeviceProfile
{
    private readonly List<DeviceLaunch> _launches = new();
    private long _mark;

    internal DeviceProfile()
    {
    }

    /// <summary>Every launch of the forward, in order.</summary>
    public IReadOnlyList<DeviceLaunch> Launches => _launches;

    /// <summary>The launches summed per kernel kind (a conv signature and its tile, a pool shape, the head), slowest first.</summary>
    public IReadOnlyList<DeviceLaunch> ByKind() =>
        _launches.GroupBy(l => l.Kind)
            .Select(g => new DeviceLaunch(g.Key, g.Count(), TimeSpan.FromTicks(g.Sum(l => l.Time.Ticks)), g.Sum(l => l.Groups), g.First().ThreadsPerGroup,
                g.Sum(l => l.Barriers), g.Sum(l => l.Macs)))
            .OrderByDescending(l => l.Time)
            .ToList();

    public TimeSpan Total => TimeSpan.FromTicks(_launches.Sum(l => l.Time.Ticks));

    internal void Start() => _mark = Stopwatch.GetTimestamp();

    /// <summary>Called after a kernel was queued: waits for it and records its time.</summary>
    internal void Record(ILGPU.Runtime.AcceleratorStream stream, string kind, long groups, int threadsPerGroup, long barriersPerGroup, long macs)
    {
        stream.Synchronize();
        long now = Stopwatch.GetTimestamp();
        _launches.Add(new DeviceLaunch(kind, 1, Stopwatch.GetElapsedTime(_mark, now), groups, threadsPerGroup, groups * barriersPerGroup, macs));
        _mark = Stopwatch.GetTimestamp();
    }
}

/// <summary>
/// One launch (or, from <see cref="DeviceProfile.ByKind"/>, <see cref="Count"/> launches of one kind): its time, its
/// groups and threads per group, the barriers all its groups pass together, and its multiply-adds (0 for pools and copies).
/// </summary>
public sealed record DeviceLaunch(string Kind, int Count, TimeSpan Time, long Groups, int ThreadsPerGroup, long Barriers, long Macs);
