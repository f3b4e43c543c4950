using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// The vector operations the micro-kernels need, over one register width. Kernels are written once,
/// generic over an implementation of this; the JIT compiles a separate, fully inlined copy per width.
/// </summary>
internal unsafe interface ISimd<TVector> where TVector : struct
{
    static abstract int Lanes { get; }

    /// <summary>Vectors of pixels per GEMM micro-tile: 4 rows × this many accumulators must fit the register file.</summary>
    static abstract int TileVectors { get; }

    static abstract TVector Load(float* p);

    static abstract void Store(TVector v, float* p);

    /// <summary>Stores the first <paramref name="count"/> lanes only (a masked store: no stack copy, nothing past them written).</summary>
    static abstract void StorePartial(TVector v, float* p, int count);

    static abstract TVector Broadcast(float x);

    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector addend);

    static abstract TVector Add(TVector a, TVector b);

    static abstract TVector Relu(TVector v);

    /// <summary>A mask of the lanes i with <paramref name="from"/> ≤ i &lt; <paramref name="to"/> (none when the range is empty).</summary>
    static abstract TVector LanesBetween(int from, int to);

    /// <summary>Stores the lanes of <paramref name="v"/> whose <paramref name="mask"/> lane has its sign bit set; writes nothing else.</summary>
    static abstract void MaskStore(float* p, TVector mask, TVector v);

    /// <summary>Loads the lanes whose <paramref name="mask"/> lane has its sign bit set, zero elsewhere; reads nothing else.</summary>
    static abstract TVector MaskLoad(float* p, TVector mask);
}

/// <summary>AVX2 (and any 256-bit ISA): 8 floats.</summary>
internal readonly unsafe struct Simd256 : ISimd<Vector256<float>>
{
    public static int Lanes => 8;

    // 16 ymm registers: 12 accumulators, 3 pixel vectors, 1 broadcast weight.
    public static int TileVectors => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(Vector256<float> v, float* p, int count)
    {
        if (Avx.IsSupported)
        {
            Avx.MaskStore(p, Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle(), v);
            return;
        }
        for (int i = 0; i < count; i++) p[i] = v.GetElement(i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, addend) : a * b + addend;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> v) => Vector256.Max(v, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LanesBetween(int from, int to) =>
        (Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(from)) &
            Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(to))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MaskStore(float* p, Vector256<float> mask, Vector256<float> v)
    {
        if (Avx.IsSupported) Avx.MaskStore(p, mask, v);
        else SoftwareMaskStore(p, mask, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MaskLoad(float* p, Vector256<float> mask) =>
        Avx.IsSupported ? Avx.MaskLoad(p, mask) : SoftwareMaskLoad(p, mask);

    // Out of line, as Simd512's: machines without AVX only.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SoftwareMaskStore(float* p, Vector256<float> mask, Vector256<float> v)
    {
        var on = mask.AsInt32();
        for (int i = 0; i < Lanes; i++)
        {
            if (on.GetElement(i) < 0) p[i] = v.GetElement(i);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> SoftwareMaskLoad(float* p, Vector256<float> mask)
    {
        var on = mask.AsInt32();
        float* lanes = stackalloc float[Lanes];
        for (int i = 0; i < Lanes; i++) lanes[i] = on.GetElement(i) < 0 ? p[i] : 0f;
        return Vector256.Load(lanes);
    }
}

/// <summary>
/// AVX-512: 16 floats, used where <see cref="Vector512.IsHardwareAccelerated"/>. Every operation also runs without
/// AVX-512, in software and to the same bits (fused multiply-adds, masked loads and stores that touch only their
/// lanes): the tests run the AVX-512 kernels that way on machines that lack it, or with it disabled. The choice is
/// a JIT-time constant, so the hardware code is the instructions alone.
/// </summary>
internal readonly unsafe struct Simd512 : ISimd<Vector512<float>>
{
    public static int Lanes => 16;

    // 32 zmm registers: 16 accumulators, 4 pixel vectors, 1 broadcast weight. 64 pixels also cover a 7×7 map in one tile.
    public static int TileVectors => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(Vector512<float> v, float* p, int count) => MaskStore(p, FirstLanes(count), v);

    /// <summary>Stores the lanes of <paramref name="v"/> whose <paramref name="mask"/> lane has its sign bit set; writes nothing else.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MaskStore(float* p, Vector512<float> mask, Vector512<float> v)
    {
        if (Avx512F.IsSupported) Avx512F.MaskStore(p, mask, v);
        else SoftwareMaskStore(p, mask, v);
    }

    /// <summary>Loads the lanes whose <paramref name="mask"/> lane has its sign bit set, zero elsewhere; reads nothing else.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MaskLoad(float* p, Vector512<float> mask) =>
        Avx512F.IsSupported ? Avx512F.MaskLoad(p, mask, Vector512<float>.Zero) : SoftwareMaskLoad(p, mask);

    /// <summary>Lane i: <c>lo[index[i]]</c> for an index below 16, else <c>hi[index[i] − 16]</c> (the low 5 bits of each index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Permute(Vector512<float> lo, Vector512<int> index, Vector512<float> hi) =>
        Avx512F.IsSupported ? Avx512F.PermuteVar16x32x2(lo, index, hi) : SoftwarePermute(lo, index, hi);

    /// <summary>The 4 floats at <paramref name="p"/>, repeated 4 times.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> BroadcastFour(float* p)
    {
        if (Avx512F.IsSupported) return Avx512F.BroadcastVector128ToVector512(p);
        var four = Vector128.Load(p);
        var eight = Vector256.Create(four, four);
        return Vector512.Create(eight, eight);
    }

    /// <summary>A mask of the lanes below <paramref name="count"/> (none when it is 0 or less), for masked loads and stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FirstLanes(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LanesBetween(int from, int to) =>
        (Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(from)) &
            Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(to))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> addend) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, addend) : Vector512.FusedMultiplyAdd(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Relu(Vector512<float> v) => Vector512.Max(v, Vector512<float>.Zero);

    // The software halves, out of line: a stackalloc would keep the callers above from being inlined.

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SoftwareMaskStore(float* p, Vector512<float> mask, Vector512<float> v)
    {
        var on = mask.AsInt32();
        for (int i = 0; i < Lanes; i++)
        {
            if (on.GetElement(i) < 0) p[i] = v.GetElement(i);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> SoftwareMaskLoad(float* p, Vector512<float> mask)
    {
        var on = mask.AsInt32();
        float* lanes = stackalloc float[Lanes];
        for (int i = 0; i < Lanes; i++) lanes[i] = on.GetElement(i) < 0 ? p[i] : 0f;
        return Vector512.Load(lanes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> SoftwarePermute(Vector512<float> lo, Vector512<int> index, Vector512<float> hi)
    {
        float* lanes = stackalloc float[Lanes];
        for (int i = 0; i < Lanes; i++)
        {
            int at = index.GetElement(i) & 31;
            lanes[i] = at < Lanes ? lo.GetElement(at) : hi.GetElement(at - Lanes);
        }
        return Vector512.Load(lanes);
    }
}
