using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// Lays a conv's receptive fields out as the GEMM's B matrix (im2col): row <c>(c·k + ky)·k + kx</c> holds,
/// for every output pixel, the input it sees through that kernel tap, zero where the tap falls in padding.
/// The row order matches PyTorch's weight layout <c>[out, in, kh, kw]</c>, so weights need no reordering.
/// A non-null second input of the same shape is added element-wise on the way: Res2Net's hierarchical
/// <c>sp + spx[i]</c>, which thus needs no buffer or pass of its own.
/// </summary>
public static unsafe class Gather
{
    /// <summary>Below this many gathered floats one thread is faster than two.</summary>
    private const long ParallelThreshold = 1 << 16;

    /// <summary>What to gather: the input, its shape, the conv's geometry and where the matrix goes.</summary>
    internal struct Job
    {
        public float* Source, Second, Col;
        public int Channels, Height, Width, Kernel, Stride, Padding, OutHeight, OutWidth;
    }

    /// <summary>
    /// Gathers <paramref name="source"/> [channels, height, width] into <paramref name="col"/>
    /// [channels·k·k, outHeight·outWidth], the channels split over the worker threads.
    /// </summary>
    public static void Im2Col(float* source, float* second, int channels, int height, int width, int kernel, int stride, int padding,
        int outHeight, int outWidth, float* col)
    {
        var job = Describe(source, second, channels, height, width, kernel, stride, padding, outHeight, outWidth, col);
        Im2Col(ref job);
    }

    /// <summary>Gathers what <paramref name="job"/> describes, the channels split over the worker threads.</summary>
    internal static void Im2Col(ref Job job)
    {
        long floats = (long)job.Channels * job.Kernel * job.Kernel * job.OutHeight * job.OutWidth;
        fixed (Job* state = &job)
        {
            Workers.Run(floats >= ParallelThreshold ? Math.Min(job.Channels, Workers.MaxThreads) : 1, &ChannelPart, state);
        }
    }

    internal static Job Describe(float* source, float* second, int channels, int height, int width, int kernel, int stride, int padding,
        int outHeight, int outWidth, float* col) => new()
    {
        Source = source, Second = second, Col = col, Channels = channels, Height = height, Width = width,
        Kernel = kernel, Stride = stride, Padding = padding, OutHeight = outHeight, OutWidth = outWidth,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelPart(void* state, int part, int parts)
    {
        ref Job g = ref Unsafe.AsRef<Job>(state);
        Range(ref g, g.Channels * part / parts, g.Channels * (part + 1) / parts, 0, g.OutHeight * g.OutWidth);
    }

    /// <summary>
    /// Channels [c0, c1) for output pixels [j0, j1): a thread that then multiplies those pixels gathers them
    /// itself, so its part of the matrix never leaves its core's cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Range(ref Job g, int c0, int c1, int j0, int j1)
    {
        int n = g.OutHeight * g.OutWidth;
        int plane = g.Height * g.Width;
        int kernel = g.Kernel, stride = g.Stride, padding = g.Padding, width = g.Width, outWidth = g.OutWidth;
        int oy0 = j0 / outWidth, oy1 = (j1 - 1) / outWidth;
        for (int c = c0; c < c1; c++)
        {
            float* s1 = g.Source + (long)c * plane;
            float* s2 = g.Second == null ? null : g.Second + (long)c * plane;
            for (int ky = 0; ky < kernel; ky++)
            {
                for (int kx = 0; kx < kernel; kx++)
                {
                    float* dst = g.Col + ((long)(c * kernel + ky) * kernel + kx) * n;
                    if (stride == 1 && outWidth == width && g.OutHeight == g.Height)
                    {
                        ShiftedPlane(dst, s1, s2, g.Height, width, padding, ky, kx, j0, j1);
                        continue;
                    }
                    // Output columns whose tap lands inside the row: stride·ox − padding + kx ∈ [0, width).
                    int first = padding > kx ? (padding - kx + stride - 1) / stride : 0;
                    int lastNumerator = width - 1 + padding - kx;
                    int end = lastNumerator < 0 ? 0 : Math.Min(outWidth, lastNumerator / stride + 1);
                    if (end < first) end = first;
                    for (int oy = oy0; oy <= oy1; oy++)
                    {
                        // This output row's share of [j0, j1).
                        int xa = Math.Max(0, j0 - oy * outWidth), xb = Math.Min(outWidth, j1 - oy * outWidth);
                        float* row = dst + oy * outWidth;
                        int iy = oy * stride - padding + ky;
                        if ((uint)iy >= (uint)g.Height)
                        {
                            Unsafe.InitBlockUnaligned(row + xa, 0, (uint)(xb - xa) * sizeof(float));
                            continue;
                        }
                        int a = Math.Max(first, xa), b = Math.Min(end, xb);
                        for (int x = xa; x < Math.Min(a, xb); x++) row[x] = 0f;
                        for (int x = Math.Max(b, xa); x < xb; x++) row[x] = 0f;
                        if (a >= b) continue;
                        long at = (long)iy * width + (long)a * stride - padding + kx;
                        int count = b - a;
                        float* r = row + a;
                        if (stride == 1)
                        {
                            if (s2 == null) Unsafe.CopyBlockUnaligned(r, s1 + at, (uint)count * sizeof(float));
                            else Add(s1 + at, s2 + at, r, count);
                        }
                        else if (s2 == null && stride == 2)
                        {
                            EvenLanes.Copy(s1 + at, r, count);
                        }
                        else if (s2 == null)
                        {
                            for (int i = 0; i < count; i++) r[i] = s1[at + (long)i * stride];
                        }
                        else
                        {
                            for (int i = 0; i < count; i++) r[i] = s1[at + (long)i * stride] + s2[at + (long)i * stride];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A same-size stride-1 conv's tap is the whole input plane shifted by <c>(ky − p)·W + (kx − p)</c>: one long
    /// copy (or sum) over pixels [j0, j1), then zeros where the tap falls outside the image, instead of a short
    /// copy per row (rows are only 7 to 56 pixels here, too short for a copy to run at speed).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ShiftedPlane(float* dst, float* s1, float* s2, int height, int width, int padding, int ky, int kx,
        int j0, int j1)
    {
        int plane = height * width;
        int shift = (ky - padding) * width + (kx - padding);
        // Output rows whose tap row exists, and the source kept inside the plane.
        int a = Math.Max(Math.Max(j0, Math.Max(0, padding - ky) * width), -shift);
        int b = Math.Min(Math.Min(j1, Math.Min(height, height + padding - ky) * width), plane - shift);
        if (a >= b)
        {
            Unsafe.InitBlockUnaligned(dst + j0, 0, (uint)(j1 - j0) * sizeof(float));
            return;
        }
        Unsafe.InitBlockUnaligned(dst + j0, 0, (uint)(a - j0) * sizeof(float));
        Unsafe.InitBlockUnaligned(dst + b, 0, (uint)(j1 - b) * sizeof(float));
        if (s2 == null) Unsafe.CopyBlockUnaligned(dst + a, s1 + a + shift, (uint)(b - a) * sizeof(float));
        else Add(s1 + a + shift, s2 + a + shift, dst + a, b - a);

        // The long copy wrapped from one row into the next at the edges; those columns are padding.
        int left = padding - kx, right = kx - padding;
        if (left <= 0 && right <= 0) return;
        for (int row = a / width; row * width < b; row++)
        {
            int start = row * width;
            if (left > 0)
            {
                for (int x = start; x < start + left; x++)
                {
                    if (x >= a && x < b) dst[x] = 0f;
                }
            }
            if (right > 0)
            {
                for (int x = start + width - right; x < start + width; x++)
                {
                    if (x >= a && x < b) dst[x] = 0f;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Add(float* a, float* b, float* dst, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(dst + i);
        for (; i < count; i++) dst[i] = a[i] + b[i];
    }
}
