using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// Lays a conv's receptive fields out as the GEMM's B matrix (im2col): row <c>(c·k + ky)·k + kx</c> holds,
/// for every output pixel, the input it sees through that kernel tap, zero where the tap falls in padding.
/// The row order matches PyTorch's weight layout <c>[out, in, kh, kw]</c>, so weights need no reordering.
/// </summary>
public static unsafe class Gather
{
    /// <summary>
    /// Gathers <paramref name="source"/> [channels, height, width] into <paramref name="col"/>
    /// [channels·k·k, outHeight·outWidth]. A non-null <paramref name="second"/> of the same shape is added
    /// element-wise on the way: Res2Net's hierarchical <c>sp + spx[i]</c>, which thus needs no buffer or pass of its own.
    /// </summary>
    public static void Im2Col(float* source, float* second, int channels, int height, int width, int kernel, int stride, int padding,
        int outHeight, int outWidth, float* col)
    {
        var args = new Args
        {
            Source = source, Second = second, Col = col, Channels = channels, Height = height, Width = width,
            Kernel = kernel, Stride = stride, Padding = padding, OutHeight = outHeight, OutWidth = outWidth,
        };
        long floats = (long)channels * kernel * kernel * outHeight * outWidth;
        Workers.Run(floats >= ParallelThreshold ? Math.Min(channels, Workers.MaxThreads) : 1, &Part, &args);
    }

    /// <summary>Below this many gathered floats one thread is faster than two.</summary>
    private const long ParallelThreshold = 1 << 16;

    private struct Args
    {
        public float* Source, Second, Col;
        public int Channels, Height, Width, Kernel, Stride, Padding, OutHeight, OutWidth;
    }

    /// <summary>One thread's channels: their rows of <c>col</c> are disjoint from every other thread's.</summary>
    private static void Part(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        int c0 = g.Channels * part / parts, c1 = g.Channels * (part + 1) / parts;
        int n = g.OutHeight * g.OutWidth;
        int plane = g.Height * g.Width;
        int kernel = g.Kernel, stride = g.Stride, padding = g.Padding, width = g.Width, outWidth = g.OutWidth;
        for (int c = c0; c < c1; c++)
        {
            float* s1 = g.Source + (long)c * plane;
            float* s2 = g.Second == null ? null : g.Second + (long)c * plane;
            for (int ky = 0; ky < kernel; ky++)
            {
                for (int kx = 0; kx < kernel; kx++)
                {
                    float* dst = g.Col + ((long)(c * kernel + ky) * kernel + kx) * n;
                    // Output columns whose tap lands inside the row: stride·ox − padding + kx ∈ [0, width).
                    int first = padding > kx ? (padding - kx + stride - 1) / stride : 0;
                    int lastNumerator = width - 1 + padding - kx;
                    int end = lastNumerator < 0 ? 0 : Math.Min(outWidth, lastNumerator / stride + 1);
                    if (end < first) end = first;
                    for (int oy = 0; oy < g.OutHeight; oy++)
                    {
                        float* row = dst + oy * outWidth;
                        int iy = oy * stride - padding + ky;
                        if ((uint)iy >= (uint)g.Height)
                        {
                            Unsafe.InitBlockUnaligned(row, 0, (uint)outWidth * sizeof(float));
                            continue;
                        }
                        for (int x = 0; x < first; x++) row[x] = 0f;
                        for (int x = end; x < outWidth; x++) row[x] = 0f;
                        long at = (long)iy * width + first * stride - padding + kx;
                        int count = end - first;
                        if (stride == 1)
                        {
                            if (s2 == null) Unsafe.CopyBlockUnaligned(row + first, s1 + at, (uint)count * sizeof(float));
                            else Add(s1 + at, s2 + at, row + first, count);
                        }
                        else
                        {
                            float* r = row + first;
                            if (s2 == null)
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
    }

    private static void Add(float* a, float* b, float* dst, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) (Vector256.Load(a + i) + Vector256.Load(b + i)).Store(dst + i);
        for (; i < count; i++) dst[i] = a[i] + b[i];
    }
}
