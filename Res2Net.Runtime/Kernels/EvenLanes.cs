using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// Every other float of a row: what a stride-2 layer (the stem conv, the stage blocks' convs and pool, the
/// max-pool, the shortcuts) reads. Two vectors are loaded and their even (or odd) lanes kept; <see cref="Split"/>
/// keeps both, for <see cref="DirectConv"/>'s stride-2 phases.
/// </summary>
internal static unsafe class EvenLanes
{
    private static readonly Vector512<int> s_even512 = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>Whether <see cref="Load256"/> has a vector implementation here.</summary>
    public static bool IsAccelerated => Avx2.IsSupported;

    /// <summary><c>p[0], p[2], …, p[14]</c> (<c>p[0 .. 15]</c> must be readable); needs <see cref="IsAccelerated"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(float* p)
    {
        // [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit lanes put back in order.
        var mixed = Avx.Shuffle(Vector256.Load(p), Vector256.Load(p + 8), 0b10_00_10_00);
        return Avx2.Permute4x64(mixed.AsDouble(), 0b11_01_10_00).AsSingle();
    }

    /// <summary>
    /// <c>even[i] = row[2i]</c> for i &lt; <paramref name="evens"/> and <c>odd[i] = row[2i + 1]</c> for
    /// i &lt; <paramref name="odds"/>, 32 columns at a time with AVX-512 (16 with AVX2), loads masked to the row's
    /// <paramref name="width"/> (the stem reads the caller's input, with nothing readable past it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Split(float* row, int width, float* even, int evens, float* odd, int odds)
    {
        // Without AVX-512 the 512-bit code below runs in software (a permute is a scalar loop): the AVX2 stride-2
        // direct convs' phases took longer than their multiply-adds that way.
        if (!Avx512F.IsSupported && IsAccelerated) Split256(row, width, even, evens, odd, odds);
        else Split512(row, width, even, evens, odd, odds);
    }

    /// <summary><see cref="Split"/> on 512-bit vectors (in software without AVX-512: the tests run it so).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Split512(float* row, int width, float* even, int evens, float* odd, int odds)
    {
        const int Lanes = 16;
        var evenLanes = s_even512;
        var oddLanes = evenLanes + Vector512<int>.One;
        for (int i = 0; i < Math.Max(evens, odds); i += Lanes)
        {
            int x = 2 * i;
            Vector512<float> lo, hi;
            if (x + 2 * Lanes <= width)
            {
                lo = Vector512.Load(row + x);
                hi = Vector512.Load(row + x + Lanes);
            }
            else
            {
                lo = Simd512.MaskLoad(row + x, Simd512.FirstLanes(width - x));
                hi = Simd512.MaskLoad(row + x + Lanes, Simd512.FirstLanes(width - x - Lanes));
            }
            var e = Simd512.Permute(lo, evenLanes, hi);
            var o = Simd512.Permute(lo, oddLanes, hi);
            if (i + Lanes <= evens) e.Store(even + i);
            else if (i < evens) Simd512.StorePartial(e, even + i, evens - i);
            if (i + Lanes <= odds) o.Store(odd + i);
            else if (i < odds) Simd512.StorePartial(o, odd + i, odds - i);
        }
    }

    /// <summary><see cref="Split"/> on 256-bit vectors: 16 columns at a time, the same results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Split256(float* row, int width, float* even, int evens, float* odd, int odds)
    {
        const int Lanes = 8;
        for (int i = 0; i < Math.Max(evens, odds); i += Lanes)
        {
            int x = 2 * i;
            Vector256<float> lo, hi;
            if (x + 2 * Lanes <= width)
            {
                lo = Vector256.Load(row + x);
                hi = Vector256.Load(row + x + Lanes);
            }
            else
            {
                lo = Simd256.MaskLoad(row + x, Simd256.LanesBetween(0, width - x));
                hi = Simd256.MaskLoad(row + x + Lanes, Simd256.LanesBetween(0, width - x - Lanes));
            }
            // [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6] (odd: lo1 lo3 …), then the 64-bit lanes put back in order, as Load256 does.
            var e = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
            var o = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
            if (i + Lanes <= evens) e.Store(even + i);
            else if (i < evens) Simd256.StorePartial(e, even + i, evens - i);
            if (i + Lanes <= odds) o.Store(odd + i);
            else if (i < odds) Simd256.StorePartial(o, odd + i, odds - i);
        }
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
