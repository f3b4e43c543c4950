using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// Every other float of a row as one vector: what a stride-2 layer (the stem conv, the stage blocks' convs and
/// pool, the max-pool, the shortcuts) reads. Two vectors are loaded and their even lanes kept, so
/// <c>p[0 .. 2·lanes − 1]</c> must be readable.
/// </summary>
internal static unsafe class EvenLanes
{
    private static readonly Vector512<int> s_even512 = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>Whether <see cref="Load256"/> has a vector implementation here.</summary>
    public static bool IsAccelerated => Avx2.IsSupported;

    /// <summary><c>p[0], p[2], …, p[14]</c>; needs <see cref="IsAccelerated"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(float* p)
    {
        // [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit lanes put back in order.
        var mixed = Avx.Shuffle(Vector256.Load(p), Vector256.Load(p + 8), 0b10_00_10_00);
        return Avx2.Permute4x64(mixed.AsDouble(), 0b11_01_10_00).AsSingle();
    }

    /// <summary><c>dst[i] = src[2i]</c> for i &lt; count, never reading past <c>src[2·(count − 1)]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy(float* src, float* dst, int count)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var even = s_even512;
            for (; i + 17 <= count; i += 16)
            {
                Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * i), even, Vector512.Load(src + 2 * i + 16)).Store(dst + i);
            }
        }
        else if (IsAccelerated)
        {
            for (; i + 9 <= count; i += 8) Load256(src + 2 * i).Store(dst + i);
        }
        for (; i < count; i++) dst[i] = src[2 * i];
    }
}
