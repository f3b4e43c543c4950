using ILGPU;

namespace Res2Net.Gpu.Kernels;

/// <summary>
/// Max and average pools, one thread per output element of the whole batch (they move each input a few times and do
/// no arithmetic worth tiling). Windows and divisors are PyTorch's, as in <c>Res2Net.Runtime.Kernels.Pooling</c>.
/// </summary>
public static class PoolKernel
{
    /// <summary>Output elements of a launch.</summary>
    public static int Elements<TShape>(int batch) where TShape : struct, IPoolShape
    {
        TShape s = default;
        return batch * s.Channels * s.OutHeight * s.OutWidth;
    }

    /// <param name="o">Offsets as for a conv: <see cref="ConvOperands.Source"/> and <see cref="ConvOperands.Destination"/> in the arena.</param>
    public static void Run<TShape>(Index1D index, ArrayView<float> arena, ConvOperands o) where TShape : struct, IPoolShape
    {
        TShape s = default;
        int outPixels = s.OutHeight * s.OutWidth;
        int perImage = s.Channels * outPixels;
        int n = index / perImage, r = index - n * perImage;
        int c = r / outPixels, p = r - c * outPixels;
        int oy = p / s.OutWidth, ox = p - oy * s.OutWidth;
        int src = n * o.ImageFloats + o.Source + c * s.Height * s.Width;

        int ys = oy * s.Stride - s.Padding, xs = ox * s.Stride - s.Padding;
        int ye = IntrinsicMath.Min(ys + s.Kernel, s.Height + s.Padding), xe = IntrinsicMath.Min(xs + s.Kernel, s.Width + s.Padding);
        int y0 = IntrinsicMath.Max(ys, 0), y1 = IntrinsicMath.Min(ye, s.Height);
        int x0 = IntrinsicMath.Max(xs, 0), x1 = IntrinsicMath.Min(xe, s.Width);
        float acc = s.Max ? float.NegativeInfinity : 0f;
        for (int y = y0; y < y1; y++)
        {
            for (int x = x0; x < x1; x++)
            {
                float v = arena[src + y * s.Width + x];
                if (s.Max) acc = v > acc || float.IsNaN(v) ? v : acc;
                else acc += v;
            }
        }
        if (!s.Max) acc /= s.IncludePad ? (ye - ys) * (xe - xs) : (y1 - y0) * (x1 - x0);
        arena[n * o.ImageFloats + o.Destination + c * outPixels + p] = acc;
    }
}
