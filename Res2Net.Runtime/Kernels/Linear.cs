using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// The classifier: <c>y = W·x + b</c> for one image, W row-major [out, in] as PyTorch stores it. Each output is a
/// dot product of 2,048 floats: four accumulators keep the adds from waiting on each other (one chain would take
/// 256 dependent steps per output), and the outputs are shared among the threads, since the 8 MB of weights is
/// more than one core pulls from memory in the time.
/// </summary>
public static unsafe class Linear
{
    /// <summary>Below this many weights one thread is faster than two.</summary>
    private const long ParallelThreshold = 1 << 16;

    private struct Args
    {
        public float* Weight, Bias, X, Y;
        public int OutFeatures, InFeatures;
    }

    public static void Forward(float* weight, float* bias, float* x, float* y, int outFeatures, int inFeatures)
    {
        var args = new Args { Weight = weight, Bias = bias, X = x, Y = y, OutFeatures = outFeatures, InFeatures = inFeatures };
        Workers.Run((long)outFeatures * inFeatures >= ParallelThreshold ? Workers.MaxThreads : 1, &Part, &args);
        LayerClock.Mark();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Part(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        int n = g.InFeatures;
        float* x = g.X;
        for (int o = g.OutFeatures * part / parts; o < g.OutFeatures * (part + 1) / parts; o++)
        {
            float* w = g.Weight + (long)o * n;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int i = 0;
            for (; i + 32 <= n; i += 32)
            {
                a0 += Vector256.Load(w + i) * Vector256.Load(x + i);
                a1 += Vector256.Load(w + i + 8) * Vector256.Load(x + i + 8);
                a2 += Vector256.Load(w + i + 16) * Vector256.Load(x + i + 16);
                a3 += Vector256.Load(w + i + 24) * Vector256.Load(x + i + 24);
            }
            for (; i + 8 <= n; i += 8) a0 += Vector256.Load(w + i) * Vector256.Load(x + i);
            float sum = Vector256.Sum((a0 + a1) + (a2 + a3));
            for (; i < n; i++) sum += w[i] * x[i];
            g.Y[o] = sum + g.Bias[o];
        }
    }
}
