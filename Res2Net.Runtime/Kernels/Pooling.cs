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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPart(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        if (IsWindow3(in g))
        {
            Window3(ref g, part, parts, max: true);
            return;
        }
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AveragePart(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        if (g.IncludePad && IsWindow3(in g))
        {
            Window3(ref g, part, parts, max: false);
            return;
        }
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

    /// <summary>Widest input row the vectorized windows take (their row buffer is on the stack).</summary>
    private const int MaxWindowRow = 8192;

    /// <summary>
    /// The windows Res2Net's pools use: 3×3, padding 1, stride 1 or 2, with the usual output size, so every
    /// window lies whole inside the padded plane and an include-pad average always divides by 9.
    /// </summary>
    private static bool IsWindow3(in Args g) =>
        g.Kernel == 3 && g.Padding == 1 && (g.Stride == 1 || (g.Stride == 2 && EvenLanes.IsAccelerated)) && Vector256.IsHardwareAccelerated &&
        g.OutHeight == (g.Height - 1) / g.Stride + 1 && g.OutWidth == (g.Width - 1) / g.Stride + 1 && g.Width <= MaxWindowRow;

    /// <summary>
    /// One thread's channels of a 3×3 window (<see cref="IsWindow3"/>), vectorized along the row: the window's
    /// input rows are first combined lane by lane into a row with a one-float border (−∞ for max, 0 for the
    /// average), then each output combines three neighbours of it, or at stride 2 the even lanes of three
    /// shifted loads. Averages sum each column of the window, then the columns (PyTorch sums row by row: the
    /// results differ only by float rounding).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Window3(ref Args g, int part, int parts, bool max)
    {
        int height = g.Height, width = g.Width, stride = g.Stride, outHeight = g.OutHeight, outWidth = g.OutWidth;
        float border = max ? float.NegativeInfinity : 0f;
        // row[0] and row[width + 1] are the padding; the rest is read by vector loads of the last outputs.
        float* row = stackalloc float[width + 24];
        for (int i = 0; i < width + 24; i++) row[i] = border;
        var ninth = Vector256.Create(9f);
        for (int c = g.Channels * part / parts; c < g.Channels * (part + 1) / parts; c++)
        {
            float* src = g.Source + (long)c * height * width;
            float* dst = g.Destination + (long)c * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = Math.Max(oy * stride - 1, 0), y1 = Math.Min(oy * stride + 2, height);
                Unsafe.CopyBlockUnaligned(row + 1, src + (long)y0 * width, (uint)width * sizeof(float));
                for (int y = y0 + 1; y < y1; y++) CombineRow(row + 1, src + (long)y * width, width, max);
                float* o = dst + (long)oy * outWidth;
                int x = 0;
                for (; x + 8 <= outWidth; x += 8)
                {
                    Vector256<float> a, b, d;
                    if (stride == 1)
                    {
                        a = Vector256.Load(row + x); b = Vector256.Load(row + x + 1); d = Vector256.Load(row + x + 2);
                    }
                    else
                    {
                        a = EvenLanes.Load256(row + 2 * x); b = EvenLanes.Load256(row + 2 * x + 1); d = EvenLanes.Load256(row + 2 * x + 2);
                    }
                    var v = max ? Vector256.Max(Vector256.Max(a, b), d) : (a + b + d) / ninth;
                    v.Store(o + x);
                }
                for (; x < outWidth; x++)
                {
                    float* w = row + x * stride;
                    o[x] = max ? MathF.Max(MathF.Max(w[0], w[1]), w[2]) : (w[0] + w[1] + w[2]) / 9f;
                }
            }
        }
    }

    /// <summary><c>row[x] = max(row[x], src[x])</c> or <c>row[x] += src[x]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CombineRow(float* row, float* src, int width, bool max)
    {
        int x = 0;
        for (; x + 8 <= width; x += 8)
        {
            var r = Vector256.Load(row + x);
            var v = Vector256.Load(src + x);
            (max ? Vector256.Max(r, v) : r + v).Store(row + x);
        }
        for (; x < width; x++) row[x] = max ? MathF.Max(row[x], src[x]) : row[x] + src[x];
    }

    /// <summary>mmpretrain's <c>GlobalAveragePooling</c> neck: the mean of each channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
