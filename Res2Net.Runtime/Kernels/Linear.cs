using System.Runtime.Intrinsics;

namespace Res2Net.Runtime.Kernels;

/// <summary>The classifier: <c>y = W·x + b</c> for one image, W row-major [out, in] as PyTorch stores it.</summary>
public static unsafe class Linear
{
    public static void Forward(float* weight, float* bias, float* x, float* y, int outFeatures, int inFeatures)
    {
        for (int o = 0; o < outFeatures; o++)
        {
            float* w = weight + (long)o * inFeatures;
            var acc = Vector256<float>.Zero;
            int i = 0;
            for (; i + 8 <= inFeatures; i += 8) acc += Vector256.Load(w + i) * Vector256.Load(x + i);
            float sum = Vector256.Sum(acc);
            for (; i < inFeatures; i++) sum += w[i] * x[i];
            y[o] = sum + bias[o];
        }
        LayerClock.Mark();
    }
}
