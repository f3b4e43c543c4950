using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// A k×k conv with "same" padding <c>k / 2</c> at stride 1 or 2, without a receptive-field matrix: the stem's 7×7
/// (and the deep stem's 3×3s), Res2Net's hierarchical 3×3 convs on <c>sp + spx[i]</c> and the stage blocks' 3×3
/// convs. The input (plus the second input, the hierarchical add) is copied once into zero-bordered planes, laid
/// out so that every tap <c>(ky, kx)</c> is one plane shifted by a constant: at stride 1 the input with its
/// padding, <c>(H + 2p) × (W + 2p)</c>; at stride 2 its four phases (even/odd padded rows × even/odd padded
/// columns), each <c>(H' + p) × (W' + p)</c> for an H' × W' output. Output pixels are counted along the planes'
/// rows, <c>q = y·rowWidth + x</c>; the micro-kernel reads its B vectors straight from the planes (a 64-pixel
/// tile needs a few plane rows per channel, in L1), and the border columns it also computes are dropped by
/// masked stores. The im2col path wrote and read k² copies of the input instead: at 56×56 with 26 channels a
/// 3×3's matrix is 2.9 MB, and the stem's is 7.4 MB, past the core's L2.
/// Needs AVX-512 (masked loads and stores); elsewhere <see cref="Gemm"/> gathers as before.
/// </summary>
internal static unsafe class DirectConv
{
    private const int Lanes = 16;
    private const int Tile = 64;
    private const int RowBlock = Gemm.RowBlock;

    /// <summary>Floats readable past the planes: the last tile's vectors run a 5-vector tile and a few columns past them.</summary>
    private const int PlaneSlack = 2 * Tile;

    /// <summary>Below this many multiply-adds a layer runs on one thread.</summary>
    private const long ParallelThreshold = 1 << 18;

    /// <summary>Weights asked for this far ahead (floats), as in <see cref="Gemm"/>: late stages stream megabytes of them.</summary>
    private const int WeightPrefetch = 512;

    // One per thread: each builds the padded rows its own output pixels need.
    [ThreadStatic]
    private static float[]? t_planes;

    private struct Args
    {
        public float* A, Bias, Source, Second, C;
        public int M, Channels, Height, Width, Kernel, Padding, Stride, OutHeight, OutWidth;
        public bool Relu;

        /// <summary>Output pixels per plane row: the output row plus its border columns.</summary>
        public readonly int RowWidth => Stride == 1 ? Width + 2 * Padding : OutWidth + Padding;

        /// <summary>Rows of one plane.</summary>
        public readonly int PlaneRows => Stride == 1 ? Height + 2 * Padding : OutHeight + Padding;

        /// <summary>Floats of one input channel's planes (one at stride 1, four phases at stride 2).</summary>
        public readonly long ChannelFloats => (long)Stride * Stride * PlaneRows * RowWidth;
    }

    /// <summary>Whether a conv of this geometry runs here: the 3×3s and the 7×7 stem (the kernel sizes the tests cover).</summary>
    public static bool Handles(int kernel, int stride, int padding, int height, int width, int outHeight, int outWidth, bool second) =>
        Avx512F.IsSupported && kernel is 3 or 7 && padding == kernel / 2 &&
        (stride == 1 ? outHeight == height && outWidth == width
            : stride == 2 && !second && outHeight == (height - 1) / 2 + 1 && outWidth == (width - 1) / 2 + 1);

    public static void Conv(float* weights, float* bias, float* source, float* second, float* destination, bool relu,
        int outChannels, int inChannels, int height, int width, int kernel, int stride, int outHeight, int outWidth)
    {
        var args = new Args
        {
            A = weights, Bias = bias, Source = source, Second = second, C = destination, Relu = relu,
            M = outChannels, Channels = inChannels, Height = height, Width = width, Kernel = kernel, Padding = kernel / 2,
            Stride = stride, OutHeight = outHeight, OutWidth = outWidth,
        };
        long macs = (long)outChannels * inChannels * kernel * kernel * outHeight * outWidth;
        Workers.Run(macs >= ParallelThreshold ? Workers.MaxThreads : 1, &Part, &args);
    }

    /// <summary>
    /// One thread's share, as <see cref="Gemm"/> splits: a range of pixel tiles when there are enough to go round,
    /// else a range of weight panels over all pixels (14×14 and 7×7 maps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Part(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        int wq = g.RowWidth;
        int n = g.OutHeight * wq - (wq - g.OutWidth); // the last row's border columns are never needed
        // Tiles of 4 vectors, the first few of 5, so that no vector is computed in vain: 14×14 is 14 vectors
        // along the padded rows, 5 + 5 + 4, where tiles of 4 computed 16.
        int vectors = (n + Lanes - 1) / Lanes;
        int tiles = Math.Max(1, vectors / 4), five = Math.Max(0, vectors - 4 * tiles);
        if (five > tiles)
        {
            tiles = (vectors + 3) / 4;
            five = 0;
        }
        int panels = (g.M + RowBlock - 1) / RowBlock;
        int t0 = 0, t1 = tiles, p0 = 0, p1 = panels;
        if (parts > 1 && (tiles >= 2 * parts || panels < parts))
        {
            t0 = tiles * part / parts;
            t1 = tiles * (part + 1) / parts;
        }
        else if (parts > 1)
        {
            p0 = panels * part / parts;
            p1 = panels * (part + 1) / parts;
        }
        if (t0 >= t1 || p0 >= p1) return;
        int q0 = TileStart(t0, five), q1 = Math.Min(n, TileStart(t1, five));

        long floats = g.Channels * g.ChannelFloats + PlaneSlack;
        float* planes = AlignedBuffer.Grow(ref t_planes, floats);
        // The plane rows this thread's outputs read: output row y reads rows y .. y + (k − 1) / stride.
        int r0 = q0 / wq, r1 = Math.Min(g.PlaneRows - 1, (q1 - 1) / wq + (g.Kernel - 1) / g.Stride);
        if (g.Stride == 1) Pad(ref g, planes, r0, r1);
        else Phases(ref g, planes, r0, r1);

        // Where each tap (ky, kx) starts, from a channel's first plane.
        int k = g.Kernel;
        int* taps = stackalloc int[k * k];
        long plane = (long)g.PlaneRows * wq;
        for (int t = 0; t < k * k; t++)
        {
            int ky = t / k, kx = t % k;
            taps[t] = g.Stride == 1 ? ky * wq + kx : (int)(((ky & 1) * 2 + (kx & 1)) * plane) + (ky >> 1) * wq + (kx >> 1);
        }
        for (int t = t0; t < t1; t++)
        {
            int q = TileStart(t, five), end = Math.Min(n, TileStart(t + 1, five));
            for (int p = p0; p < p1; p++)
            {
                if (end - q > Tile) Multiply<FiveVectors>(ref g, planes, taps, p * RowBlock, q, end);
                else Multiply<FourVectors>(ref g, planes, taps, p * RowBlock, q, end);
            }
        }
    }

    private static int TileStart(int tile, int five) => tile * Tile + Math.Min(tile, five) * Lanes;

    /// <summary>Stride 1: rows [r0, r1] of every channel's bordered plane, the input (plus the second input) inside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad(ref Args g, float* planes, int r0, int r1)
    {
        int height = g.Height, width = g.Width, pad = g.Padding, wp = g.RowWidth;
        for (int c = 0; c < g.Channels; c++)
        {
            float* dst = planes + c * g.ChannelFloats;
            float* s1 = g.Source + (long)c * height * width;
            float* s2 = g.Second == null ? null : g.Second + (long)c * height * width;
            for (int r = r0; r <= r1; r++)
            {
                float* row = dst + (long)r * wp;
                if ((uint)(r - pad) >= (uint)height)
                {
                    Unsafe.InitBlockUnaligned(row, 0, (uint)wp * sizeof(float));
                    continue;
                }
                for (int x = 0; x < pad; x++)
                {
                    row[x] = 0f;
                    row[pad + width + x] = 0f;
                }
                long at = (long)(r - pad) * width;
                float* inside = row + pad;
                if (s2 == null)
                {
                    Unsafe.CopyBlockUnaligned(inside, s1 + at, (uint)width * sizeof(float));
                    continue;
                }
                int i = 0;
                for (; i + Lanes <= width; i += Lanes) (Vector512.Load(s1 + at + i) + Vector512.Load(s2 + at + i)).Store(inside + i);
                if (i < width)
                {
                    // Rows of 7, 14 or 28: the tail is most of the row, so it is one masked vector, not a scalar loop.
                    var mask = Simd512.FirstLanes(width - i);
                    var sum = Avx512F.MaskLoad(s1 + at + i, mask, Vector512<float>.Zero) + Avx512F.MaskLoad(s2 + at + i, mask, Vector512<float>.Zero);
                    Avx512F.MaskStore(inside + i, mask, sum);
                }
            }
        }
    }

    /// <summary>
    /// Stride 2: rows [r0, r1] of every channel's four phases. Phase (py, px) row r, column s holds padded pixel
    /// (2r + py, 2s + px), that is input pixel (2r + py − p, 2s + px − p), zero outside the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Phases(ref Args g, float* planes, int r0, int r1)
    {
        int height = g.Height, width = g.Width, pad = g.Padding, wq = g.RowWidth;
        long plane = (long)g.PlaneRows * wq;
        // An input row's even columns go to phase column px = p mod 2 from s = (p − px) / 2 on, its odd columns to
        // the other phase from s = (p + 1 − px) / 2: one pass splits a row into both.
        int evenPhase = pad & 1, oddPhase = 1 - evenPhase;
        int evenStart = (pad - evenPhase) / 2, oddStart = (pad + 1 - oddPhase) / 2;
        int evens = Math.Min((width + 1) / 2, wq - evenStart), odds = Math.Min(width / 2, wq - oddStart);
        for (int c = 0; c < g.Channels; c++)
        {
            float* src = g.Source + (long)c * height * width;
            for (int py = 0; py < 2; py++)
            {
                float* phases = planes + c * g.ChannelFloats + py * 2 * plane;
                for (int r = r0; r <= r1; r++)
                {
                    float* even = phases + evenPhase * plane + (long)r * wq;
                    float* odd = phases + oddPhase * plane + (long)r * wq;
                    int iy = 2 * r + py - pad;
                    if ((uint)iy >= (uint)height)
                    {
                        Unsafe.InitBlockUnaligned(even, 0, (uint)wq * sizeof(float));
                        Unsafe.InitBlockUnaligned(odd, 0, (uint)wq * sizeof(float));
                        continue;
                    }
                    // The borders are 0 to 3 floats: plain stores, not a memset call per row.
                    for (int x = 0; x < evenStart; x++) even[x] = 0f;
                    for (int x = 0; x < oddStart; x++) odd[x] = 0f;
                    EvenLanes.Split(src + (long)iy * width, width, even + evenStart, evens, odd + oddStart, odds);
                    for (int x = evenStart + evens; x < wq; x++) even[x] = 0f;
                    for (int x = oddStart + odds; x < wq; x++) odd[x] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// The micro-kernel: 4 output channels × 64 (or 80) plane-row pixels from <paramref name="q"/> (the results of
    /// [q, <paramref name="end"/>) kept), over all channels × k² taps, then bias, ReLU and the store.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply<W>(ref Args g, float* planes, int* taps, int row, int q, int end) where W : struct, ITileColumns
    {
        bool fifth = W.Fifth;
        int taps2 = g.Kernel * g.Kernel;
        float* a = g.A + (long)row * g.Channels * taps2;
        long channel = g.ChannelFloats;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        float* r0 = planes + q;
        for (int c = 0; c < g.Channels; c++, r0 += channel)
        {
            for (int t = 0; t < taps2; t++, a += RowBlock)
            {
                if ((t & 3) == 0) Sse.Prefetch0(a + WeightPrefetch); // a cache line of weights per 4 taps
                float* b = r0 + taps[t];
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + Lanes);
                var b2 = Vector512.Load(b + 2 * Lanes);
                var b3 = Vector512.Load(b + 3 * Lanes);
                var b4 = fifth ? Vector512.Load(b + 4 * Lanes) : default;
                var a0 = Vector512.Create(a[0]);
                c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01);
                c02 = Avx512F.FusedMultiplyAdd(a0, b2, c02); c03 = Avx512F.FusedMultiplyAdd(a0, b3, c03);
                if (fifth) c04 = Avx512F.FusedMultiplyAdd(a0, b4, c04);
                var a1 = Vector512.Create(a[1]);
                c10 = Avx512F.FusedMultiplyAdd(a1, b0, c10); c11 = Avx512F.FusedMultiplyAdd(a1, b1, c11);
                c12 = Avx512F.FusedMultiplyAdd(a1, b2, c12); c13 = Avx512F.FusedMultiplyAdd(a1, b3, c13);
                if (fifth) c14 = Avx512F.FusedMultiplyAdd(a1, b4, c14);
                var a2 = Vector512.Create(a[2]);
                c20 = Avx512F.FusedMultiplyAdd(a2, b0, c20); c21 = Avx512F.FusedMultiplyAdd(a2, b1, c21);
                c22 = Avx512F.FusedMultiplyAdd(a2, b2, c22); c23 = Avx512F.FusedMultiplyAdd(a2, b3, c23);
                if (fifth) c24 = Avx512F.FusedMultiplyAdd(a2, b4, c24);
                var a3 = Vector512.Create(a[3]);
                c30 = Avx512F.FusedMultiplyAdd(a3, b0, c30); c31 = Avx512F.FusedMultiplyAdd(a3, b1, c31);
                c32 = Avx512F.FusedMultiplyAdd(a3, b2, c32); c33 = Avx512F.FusedMultiplyAdd(a3, b3, c33);
                if (fifth) c34 = Avx512F.FusedMultiplyAdd(a3, b4, c34);
            }
        }
        int rows = Math.Min(RowBlock, g.M - row);
        var bias0 = Vector512.Create(g.Bias[row]);
        var bias1 = rows > 1 ? Vector512.Create(g.Bias[row + 1]) : default;
        var bias2 = rows > 2 ? Vector512.Create(g.Bias[row + 2]) : default;
        var bias3 = rows > 3 ? Vector512.Create(g.Bias[row + 3]) : default;
        Store(ref g, row, rows, q, end, c00 + bias0, c10 + bias1, c20 + bias2, c30 + bias3);
        if (q + Lanes < end) Store(ref g, row, rows, q + Lanes, end, c01 + bias0, c11 + bias1, c21 + bias2, c31 + bias3);
        if (q + 2 * Lanes < end) Store(ref g, row, rows, q + 2 * Lanes, end, c02 + bias0, c12 + bias1, c22 + bias2, c32 + bias3);
        if (q + 3 * Lanes < end) Store(ref g, row, rows, q + 3 * Lanes, end, c03 + bias0, c13 + bias1, c23 + bias2, c33 + bias3);
        if (fifth && q + 4 * Lanes < end) Store(ref g, row, rows, q + 4 * Lanes, end, c04 + bias0, c14 + bias1, c24 + bias2, c34 + bias3);
    }

    /// <summary>
    /// Lanes q .. q + 15 of up to 4 output channels to the output: lane q + l of plane row y is output pixel
    /// <c>q + l − y·border</c>, kept where its column is inside the output and q + l &lt; <paramref name="end"/>.
    /// One masked store per channel and plane row the vector touches (two, or three on a 7×7 map), the masks
    /// worked out once for the 4 channels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref Args g, int row, int rows, int q, int end, Vector512<float> v0, Vector512<float> v1,
        Vector512<float> v2, Vector512<float> v3)
    {
        if (g.Relu)
        {
            v0 = Vector512.Max(v0, Vector512<float>.Zero);
            v1 = Vector512.Max(v1, Vector512<float>.Zero);
            v2 = Vector512.Max(v2, Vector512<float>.Zero);
            v3 = Vector512.Max(v3, Vector512<float>.Zero);
        }
        int wq = g.RowWidth, border = wq - g.OutWidth;
        long channel = (long)g.OutHeight * g.OutWidth;
        var index = Vector512<int>.Indices + Vector512.Create(q);
        var live = Vector512.LessThan(index, Vector512.Create(end));
        int last = Math.Min(q + Lanes, end) - 1;
        for (int y = q / wq; y <= last / wq; y++)
        {
            int start = y * wq;
            var mask = (live & Vector512.GreaterThanOrEqual(index, Vector512.Create(start))
                & Vector512.LessThan(index, Vector512.Create(start + g.OutWidth))).AsSingle();
            float* c = g.C + row * channel + q - border * y;
            Avx512F.MaskStore(c, mask, v0);
            if (rows > 1) Avx512F.MaskStore(c + channel, mask, v1);
            if (rows > 2) Avx512F.MaskStore(c + 2 * channel, mask, v2);
            if (rows > 3) Avx512F.MaskStore(c + 3 * channel, mask, v3);
        }
    }
}
