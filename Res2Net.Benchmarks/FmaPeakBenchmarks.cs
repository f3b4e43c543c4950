using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;

namespace Res2Net.Benchmarks;

/// <summary>
/// The machine's FP32 peak, measured: independent chains of fused multiply-adds (Vector512 where AVX-512F is
/// there, else Vector256 with FMA3), enough of them to cover the FMA latency on every port, on 1 and 2 threads.
/// GFLOP/s = <see cref="FlopsPerInvocation"/> / time; the forwards' fraction of peak is taken against it.
/// </summary>
public class FmaPeakBenchmarks
{
    /// <summary>Loop trips per thread per invocation.</summary>
    public const int Iterations = 2_000_000;

    /// <summary>Independent accumulators: latency 4 × 2 FMA ports needs 8; 12 leaves margin and fits the registers.</summary>
    public const int Chains = 12;

    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Floats per vector the probe uses: 16 with AVX-512F, 8 with AVX2+FMA.</summary>
    public static int Lanes => Avx512F.IsSupported ? 16 : 8;

    public static string Kind => Avx512F.IsSupported ? "Vector512 FMA" : Fma.IsSupported ? "Vector256 FMA" : "no FMA (scalar fallback)";

    /// <summary>Floating-point operations (an FMA is two) one invocation performs on <paramref name="threads"/> threads.</summary>
    public static double FlopsPerInvocation(int threads) => 2.0 * Iterations * Chains * Lanes * threads;

    [Benchmark]
    public float FmaChains()
    {
        if (Threads == 1) return Chain(Iterations);
        var sums = new float[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => sums[t] = Chain(Iterations));
        return sums.Sum();
    }

    private static float Chain(int iterations) =>
        Avx512F.IsSupported ? Chain512(iterations) : Fma.IsSupported ? Chain256(iterations) : ChainScalar(iterations);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chain512(int n)
    {
        // x ← x·m + c converges (|m| < 1): no overflow, no denormals, and the JIT cannot drop the work.
        var m = Vector512.Create(0.999f);
        var c = Vector512.Create(0.001f);
        Vector512<float> a0 = Vector512.Create(0f), a1 = Vector512.Create(1f), a2 = Vector512.Create(2f), a3 = Vector512.Create(3f);
        Vector512<float> a4 = Vector512.Create(4f), a5 = Vector512.Create(5f), a6 = Vector512.Create(6f), a7 = Vector512.Create(7f);
        Vector512<float> a8 = Vector512.Create(8f), a9 = Vector512.Create(9f), a10 = Vector512.Create(10f), a11 = Vector512.Create(11f);
        for (int i = 0; i < n; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c);
            a1 = Avx512F.FusedMultiplyAdd(a1, m, c);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, c);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, c);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, c);
            a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c);
            a7 = Avx512F.FusedMultiplyAdd(a7, m, c);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, c);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, c);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, c);
            a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chain256(int n)
    {
        var m = Vector256.Create(0.999f);
        var c = Vector256.Create(0.001f);
        Vector256<float> a0 = Vector256.Create(0f), a1 = Vector256.Create(1f), a2 = Vector256.Create(2f), a3 = Vector256.Create(3f);
        Vector256<float> a4 = Vector256.Create(4f), a5 = Vector256.Create(5f), a6 = Vector256.Create(6f), a7 = Vector256.Create(7f);
        Vector256<float> a8 = Vector256.Create(8f), a9 = Vector256.Create(9f), a10 = Vector256.Create(10f), a11 = Vector256.Create(11f);
        for (int i = 0; i < n; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c);
            a1 = Fma.MultiplyAdd(a1, m, c);
            a2 = Fma.MultiplyAdd(a2, m, c);
            a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c);
            a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c);
            a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c);
            a9 = Fma.MultiplyAdd(a9, m, c);
            a10 = Fma.MultiplyAdd(a10, m, c);
            a11 = Fma.MultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    /// <summary>Only for machines without FMA: keeps the benchmark runnable; its "peak" is then meaningless.</summary>
    private static float ChainScalar(int n)
    {
        float s = 0;
        for (int i = 0; i < n * Chains * 8; i++) s = s * 0.999f + 0.001f;
        return s;
    }
}
