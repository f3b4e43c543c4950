using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// Timestamps taken as each kernel entry point returns, for the benchmarks' per-layer profile of a real
/// forward (layers replayed on their own find their inputs and weights in cache; inside a forward they do not).
/// Off unless a profiler arms it: one thread-static read per layer otherwise. Only the arming thread's layers
/// are stamped (a batch-1 forward runs every kernel entry point on its calling thread).
/// </summary>
internal static class LayerClock
{
    [ThreadStatic]
    private static long[]? s_marks;

    [ThreadStatic]
    private static int s_next;

    /// <summary>Stamps the start into <paramref name="marks"/>[0], then each layer's end into the next slot until it is full.</summary>
    public static void Arm(long[] marks)
    {
        s_next = 1;
        marks[0] = Stopwatch.GetTimestamp();
        s_marks = marks;
    }

    public static void Disarm() => s_marks = null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Mark()
    {
        if (s_marks is { } marks) Record(marks);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Record(long[] marks)
    {
        if (s_next < marks.Length) marks[s_next++] = Stopwatch.GetTimestamp();
    }
}
