using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Res2Net.Runtime.Kernels;

/// <summary>The pooling layers of Res2Net, each following PyTorch's definition of its window and divisor.</summary>
public static unsafe class Pooling
{
    /// <summary>Below this many input floats a pooling layer runs on one thread.</summary>
    private const long ParallelThreshold = 1 << 16;

    private struct Args
    {
        public float* Source, Destination;
        public int Channels, Height, Width, Kernel, Stride, Padding, OutHeight, OutWidth;
        public bool IncludePad;
    }

    /// <summary><c>MaxPool2d</c>: padding never wins (it is −∞).</summary>
    public static void Max(float* source, float* destination, int channels, int height, int width, int kernel, int stride, int padding,
        int outHeight, int outWidth) =>
        Run(&MaxPart, source, destination, channels, height, width, kernel, stride, padding, outHeight, outWidth, includePad: false);

    private static void Run(delegate*<void*, int, int, void> part, float* source, float* destination, int channels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth, bool includePad)
    {
        var args = new Args
        {
            Source = source, Destination = destination, Channels = channels, Height = height, Width = width, Kernel = kernel,
            Stride = stride, Padding = padding, OutHeight = outHeight, OutWidth = outWidth, IncludePad = includePad,
        };
        long floats = (long)channels * height * width;
        Workers.Run(floats >= ParallelThreshold ? Math.Min(channels, Workers.MaxThreads) : 1, part, &args);
        LayerClock.Mark();
    }

    /// <summary>One thread's channels of a max-pool.</summary>
    private static void MaxPart(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        int height = g.Height, width = g.Width, kernel = g.Kernel, stride = g.Stride, padding = g.Padding;
        int outHeight = g.OutHeight, outWidth = g.OutWidth;
        for (int c = g.Channels * part / parts; c < g.Channels * (part + 1) / parts; c++)
        {
            float* src = g.Source + (long)c * height * width;
            float* dst = g.Destination + (long)c * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + kernel, height);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int x0 = Math.Max(ox * stride - padding, 0), x1 = Math.Min(ox * stride - padding + kernel, width);
                    float m = float.NegativeInfinity;
                    for (int y = y0; y < y1; y++)
                    {
                        for (int x = x0; x < x1; x++) m = MathF.Max(m, src[y * width + x]);
                    }
                    dst[oy * outWidth + ox] = m;
                }
            }
        }
    }

    /// <summary>
    /// <c>AvgPool2d(k, stride, padding)</c> with <c>count_include_pad=True</c>: the divisor counts padding
    /// positions, but not a window's part beyond the padded border.
    /// </summary>
    public static void AverageIncludePad(float* source, float* destination, int channels, int height, int width, int kernel, int stride,
        int padding, int outHeight, int outWidth) =>
        Run(&AveragePart, source, destination, channels, height, width, kernel, stride, padding, outHeight, outWidth, includePad: true);

    /// <summary>
    /// <c>AvgPool2d(k, stride, ceil_mode=True, count_include_pad=False)</c> (avg_down shortcuts): the
    /// divisor is the number of input elements inside the window, so the ceil-mode edge windows are not diluted.
    /// </summary>
    public static void AverageCeilExcludePad(float* source, float* destination, int channels, int height, int width, int kernel, int stride,
        int padding, int outHeight, int outWidth) =>
        Run(&AveragePart, source, destination, channels, height, width, kernel, stride, padding, outHeight, outWidth, includePad: false);

    /// <summary>One thread's channels of an average pool.</summary>
    private static void AveragePart(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        int height = g.Height, width = g.Width, kernel = g.Kernel, stride = g.Stride, padding = g.Padding;
        int outHeight = g.OutHeight, outWidth = g.OutWidth;
        bool includePad = g.IncludePad;
        for (int c = g.Channels * part / parts; c < g.Channels * (part + 1) / parts; c++)
        {
            float* src = g.Source + (long)c * height * width;
            float* dst = g.Destination + (long)c * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int ys = oy * stride - padding;
                int ye = Math.Min(ys + kernel, height + padding);
                int y0 = Math.Max(ys, 0), y1 = Math.Min(ye, height);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int xs = ox * stride - padding;
                    int xe = Math.Min(xs + kernel, width + padding);
                    int x0 = Math.Max(xs, 0), x1 = Math.Min(xe, width);
                    float sum = 0f;
                    for (int y = y0; y < y1; y++)
                    {
                        for (int x = x0; x < x1; x++) sum += src[y * width + x];
                    }
                    int divisor = includePad ? (ye - ys) * (xe - xs) : (y1 - y0) * (x1 - x0);
                    dst[oy * outWidth + ox] = sum / divisor;
                }
            }
        }
    }

    /// <summary>mmpretrain's <c>GlobalAveragePooling</c> neck: the mean of each channel.</summary>
    public static void GlobalAverage(float* source, float* destination, int channels, int size)
    {
        for (int c = 0; c < channels; c++)
        {
            float* src = source + (long)c * size;
            var acc = Vector256<float>.Zero;
            int i = 0;
            for (; i + 8 <= size; i += 8) acc += Vector256.Load(src + i);
            float sum = Vector256.Sum(acc);
            for (; i < size; i++) sum += src[i];
            destination[c] = sum / size;
        }
        LayerClock.Mark();
    }
}
