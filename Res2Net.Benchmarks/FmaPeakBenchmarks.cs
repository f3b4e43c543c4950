using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using Res2Net.Runtime.Kernels;

namespace Res2Net.Benchmarks;

/// <summary>
/// The machine's FP32 peak, measured: independent chains of fused multiply-adds at the vector width the kernels
/// use (the runtime's own <c>ISimd</c> operations: Vector512 where it is accelerated, else Vector256), enough of
/// them to cover the FMA latency on every port, on 1 and 2 threads.
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

    /// <summary>Floats per vector the probe uses: 16 with AVX-512, else 8.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Simd512.Lanes : Simd256.Lanes;

    public static string Kind => Vector512.IsHardwareAccelerated ? "Vector512 FMA" : Fma.IsSupported ? "Vector256 FMA" : "Vector256 without FMA";

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
        Vector512.IsHardwareAccelerated ? Chain<Simd512, Vector512<float>>(iterations) : Chain<Simd256, Vector256<float>>(iterations);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe float Chain<S, V>(int n) where S : struct, ISimd<V> where V : struct
    {
        // x ← x·m + c converges (|m| < 1): no overflow, no denormals, and the JIT cannot drop the work.
        V m = S.Broadcast(0.999f), c = S.Broadcast(0.001f);
        V a0 = S.Broadcast(0f), a1 = S.Broadcast(1f), a2 = S.Broadcast(2f), a3 = S.Broadcast(3f);
        V a4 = S.Broadcast(4f), a5 = S.Broadcast(5f), a6 = S.Broadcast(6f), a7 = S.Broadcast(7f);
        V a8 = S.Broadcast(8f), a9 = S.Broadcast(9f), a10 = S.Broadcast(10f), a11 = S.Broadcast(11f);
        for (int i = 0; i < n; i++)
        {
            a0 = S.MultiplyAdd(a0, m, c); a1 = S.MultiplyAdd(a1, m, c); a2 = S.MultiplyAdd(a2, m, c);
            a3 = S.MultiplyAdd(a3, m, c); a4 = S.MultiplyAdd(a4, m, c); a5 = S.MultiplyAdd(a5, m, c);
            a6 = S.MultiplyAdd(a6, m, c); a7 = S.MultiplyAdd(a7, m, c); a8 = S.MultiplyAdd(a8, m, c);
            a9 = S.MultiplyAdd(a9, m, c); a10 = S.MultiplyAdd(a10, m, c); a11 = S.MultiplyAdd(a11, m, c);
        }
        V sum = S.Add(S.Add(S.Add(S.Add(a0, a1), S.Add(a2, a3)), S.Add(S.Add(a4, a5), S.Add(a6, a7))),
            S.Add(S.Add(a8, a9), S.Add(a10, a11)));
        float* lanes = stackalloc float[16];
        S.Store(sum, lanes);
        float total = 0;
        for (int i = 0; i < S.Lanes; i++) total += lanes[i];
        return total;
    }
}
