using System.Runtime.CompilerServices;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// Pinned float buffers addressed from a 64-byte boundary. The pinned heap aligns arrays to 8 bytes only, so
/// from one process to the next a whole buffer's vector loads and stores could straddle two cache lines or not;
/// the same forward then ran at two speeds.
/// </summary>
internal static unsafe class AlignedBuffer
{
    private const int Alignment = 64;

    private const int SlackFloats = Alignment / sizeof(float);

    /// <summary>A new pinned array with room for <paramref name="floats"/> from its first 64-byte boundary.</summary>
    public static float[] Allocate(long floats) => GC.AllocateArray<float>(checked((int)(floats + SlackFloats)), pinned: true);

    /// <summary>The first 64-byte boundary in a pinned array from <see cref="Allocate"/>.</summary>
    public static float* Start(float[] array) => (float*)(((nint)Unsafe.AsPointer(ref array[0]) + Alignment - 1) & ~(nint)(Alignment - 1));

    /// <summary>A per-thread scratch of at least <paramref name="floats"/>, grown when too small, from its 64-byte boundary.</summary>
    public static float* Grow(ref float[]? array, long floats)
    {
        if (array == null || array.Length < floats + SlackFloats) array = Allocate(floats);
        return Start(array);
    }
}
