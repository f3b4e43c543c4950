using ILGPU;

namespace Res2Net.Gpu.Kernels;

/// <summary>
/// The neck and head: mmpretrain's global average pool and the classifier's Linear, and the copy of a stage output out
/// of the arena. Small next to the convs (the fc is 2 MFLOP an image against 4–8 GFLOP), so one thread per output.
/// </summary>
public static class HeadKernels
{
    /// <summary>Thread <c>(n, c)</c>: the mean of channel c of image n.</summary>
    public static void GlobalAverage(Index1D index, ArrayView<float> arena, int channels, int pixels, ConvOperands o)
    {
        int n = index / channels, c = index - n * channels;
        int src = n * o.ImageFloats + o.Source + c * pixels;
        float sum = 0;
        for (int i = 0; i < pixels; i++) sum += arena[src + i];
        arena[n * o.ImageFloats + o.Destination + c] = sum / pixels;
    }

    /// <summary>
    /// Thread <c>(n, j)</c>: logit j of image n, <c>b[j] + Σ_i W[j, i] · x[i]</c> with W row-major as the checkpoint holds it.
    /// Consecutive threads take consecutive classes of one image, which read the same pooled features (broadcast).
    /// </summary>
    public static void Linear(Index1D index, ArrayView<float> arena, ArrayView<float> weights, ArrayView<float> logits,
        int inFeatures, int outFeatures, ConvOperands o)
    {
        int n = index / outFeatures, j = index - n * outFeatures;
        int x = n * o.ImageFloats + o.Source, w = o.Weights + j * inFeatures;
        float sum = 0;
        for (int i = 0; i < inFeatures; i++) sum += weights[w + i] * arena[x + i];
        logits[index] = sum + weights[o.Bias + j];
    }

    /// <summary>Element <c>(n, i)</c> of a stage output, from the arena into a batch-contiguous buffer.</summary>
    public static void CopyOut(Index1D index, ArrayView<float> arena, ArrayView<float> target, int elements, int imageFloats, int offset)
    {
        int n = index / elements, i = index - n * elements;
        target[index] = arena[n * imageFloats + offset + i];
    }
}
