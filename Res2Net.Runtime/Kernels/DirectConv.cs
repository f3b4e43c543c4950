using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Res2Net.Runtime.Kernels.Layers;

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
/// Written once over the vector width <c>S</c>: on AVX-512 a tile is 4 channels × 4 vectors of 16 pixels (the first
/// few tiles of a layer 5 vectors), on AVX2 4 channels × 3 vectors of 8 (12 of the 16 ymm registers accumulate). A
/// generated layer runs it through <see cref="ConvKernels.DirectAvx512{T}"/> or <see cref="ConvKernels.DirectAvx2{T}"/>,
/// with its tiles and thread split constants of its type; the fallback <see cref="Gemm.Conv"/> decides them at run
/// time and runs the same code. Every output sums its products in the GEMM's order (input channel, then tap, one
/// fused multiply-add each), so the bits are the GEMM's whatever the width.
/// </summary>
internal static unsafe class DirectConv
{
    private const int RowBlock = Gemm.RowBlock;

    /// <summary>Floats readable past the planes: the last tile's vectors run a whole tile (at most 80 pixels) and a few columns past them.</summary>
    private const int PlaneSlack = 128;

    /// <summary>Below this many multiply-adds the fallback runs a layer on one thread.</summary>
    private const long ParallelThreshold = 1 << 18;

    /// <summary>Weights asked for this far ahead (floats), as in <see cref="Gemm"/>: late stages stream megabytes of them.</summary>
    private const int WeightPrefetch = 512;

    // One per thread: each builds the padded rows its own output pixels need.
    [ThreadStatic]
    private static float[]? t_planes;

    /// <summary>
    /// Where one layer reads and writes, shared by its threads; the fields after the pointers are the fallback's
    /// layer, read through <see cref="Planned"/> (a generated layer's are constants of its type).
    /// </summary>
    private struct Args
    {
        public float* A, Bias, Source, Second, C;
        public int M, Channels, Height, Width, Kernel, Stride, OutHeight, OutWidth, Tiles, FiveVectorTiles;
        public bool Relu;
        public ThreadSplit Split;
    }

    /// <summary>
    /// The layer as the kernel code reads it. <see cref="Compiled{T}"/> answers with a generated layer's constants,
    /// so the JIT folds every answer into that layer's own copy of the code; <see cref="Planned"/> answers with what
    /// the fallback decided at run time. One code serves both, so the two cannot drift apart.
    /// </summary>
    private interface ILayer
    {
        static abstract int M(ref Args g);
        static abstract int Channels(ref Args g);
        static abstract int Height(ref Args g);
        static abstract int Width(ref Args g);
        static abstract int Kernel(ref Args g);
        static abstract int Stride(ref Args g);
        static abstract int OutHeight(ref Args g);
        static abstract int OutWidth(ref Args g);
        static abstract bool Summed(ref Args g);
        static abstract bool Relu(ref Args g);
        static abstract ThreadSplit Split(ref Args g);
        static abstract int Tiles(ref Args g);
        static abstract int FiveVectorTiles(ref Args g);
    }

    private readonly struct Compiled<T> : ILayer where T : struct, IDirectConvLayer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int M(ref Args g) => T.OutChannels;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Channels(ref Args g) => T.InChannels;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Height(ref Args g) => T.Height;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Width(ref Args g) => T.Width;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Kernel(ref Args g) => T.Kernel;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Stride(ref Args g) => T.Stride;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int OutHeight(ref Args g) => T.OutHeight;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int OutWidth(ref Args g) => T.OutWidth;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Summed(ref Args g) => T.Summed;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Relu(ref Args g) => T.Relu;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ThreadSplit Split(ref Args g) => T.Split;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Tiles(ref Args g) => T.Tiles;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int FiveVectorTiles(ref Args g) => T.FiveVectorTiles;
    }

    private readonly struct Planned : ILayer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int M(ref Args g) => g.M;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Channels(ref Args g) => g.Channels;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Height(ref Args g) => g.Height;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Width(ref Args g) => g.Width;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Kernel(ref Args g) => g.Kernel;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Stride(ref Args g) => g.Stride;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int OutHeight(ref Args g) => g.OutHeight;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int OutWidth(ref Args g) => g.OutWidth;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Summed(ref Args g) => g.Second != null;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Relu(ref Args g) => g.Relu;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ThreadSplit Split(ref Args g) => g.Split;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Tiles(ref Args g) => g.Tiles;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int FiveVectorTiles(ref Args g) => g.FiveVectorTiles;
    }

    /// <summary>"Same" padding, what this kernel is for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Padding<L>(ref Args g) where L : struct, ILayer => L.Kernel(ref g) / 2;

    /// <summary>Output pixels per plane row: the output row plus its border columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RowWidth<L>(ref Args g) where L : struct, ILayer =>
        L.Stride(ref g) == 1 ? L.Width(ref g) + 2 * Padding<L>(ref g) : L.OutWidth(ref g) + Padding<L>(ref g);

    /// <summary>Rows of one plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PlaneRows<L>(ref Args g) where L : struct, ILayer =>
        L.Stride(ref g) == 1 ? L.Height(ref g) + 2 * Padding<L>(ref g) : L.OutHeight(ref g) + Padding<L>(ref g);

    /// <summary>Floats of one input channel's planes (one at stride 1, four phases at stride 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ChannelFloats<L>(ref Args g) where L : struct, ILayer =>
        (long)L.Stride(ref g) * L.Stride(ref g) * PlaneRows<L>(ref g) * RowWidth<L>(ref g);

    /// <summary>Plane-row pixels the tiles cover: the output rows with their borders, less the last row's (never needed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Pixels<L>(ref Args g) where L : struct, ILayer =>
        L.OutHeight(ref g) * RowWidth<L>(ref g) - (RowWidth<L>(ref g) - L.OutWidth(ref g));

    /// <summary>Where tile <paramref name="tile"/> starts: whole tiles of <c>TileVectors</c> vectors, the first <paramref name="five"/> one vector wider.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TileStart<S, V>(int tile, int five) where S : struct, ISimd<V> where V : struct =>
        tile * S.TileVectors * S.Lanes + Math.Min(tile, five) * S.Lanes;

    /// <summary>Whether a conv of this geometry runs here: the 3×3s and the 7×7 stem (the kernel sizes the tests cover).</summary>
    public static bool Handles(int kernel, int stride, int padding, int height, int width, int outHeight, int outWidth, bool second) =>
        kernel is 3 or 7 && padding == kernel / 2 && height >= 1 && width >= 1 &&
        (stride == 1 ? outHeight == height && outWidth == width
            : stride == 2 && !second && outHeight == (height - 1) / 2 + 1 && outWidth == (width - 1) / 2 + 1);

    /// <summary>
    /// The FALLBACK's way in (<see cref="Gemm.Conv"/>, for a layer that <see cref="Handles"/>): decides at run time the
    /// tiles and the thread split that a generated layer's type fixes, then runs the same code.
    /// </summary>
    public static void Conv(float* weights, float* bias, float* source, float* second, float* destination, bool relu,
        int outChannels, int inChannels, int height, int width, int kernel, int stride, int outHeight, int outWidth)
    {
        var args = new Args
        {
            A = weights, Bias = bias, Source = source, Second = second, C = destination, Relu = relu,
            M = outChannels, Channels = inChannels, Height = height, Width = width, Kernel = kernel,
            Stride = stride, OutHeight = outHeight, OutWidth = outWidth,
        };
        // The width Gemm.Conv, the other half of the fallback, takes.
        if (Vector512.IsHardwareAccelerated)
        {
            (args.Tiles, args.FiveVectorTiles, args.Split) = FallbackSchedule<Simd512, Vector512<float>>(ref args, Workers.MaxThreads);
            Run<Planned, Simd512, Vector512<float>>(args);
        }
        else
        {
            (args.Tiles, args.FiveVectorTiles, args.Split) = FallbackSchedule<Simd256, Vector256<float>>(ref args, Workers.MaxThreads);
            Run<Planned, Simd256, Vector256<float>>(args);
        }
    }

    /// <summary>
    /// The fallback's tiles and thread split for a layer of this geometry on <paramref name="threads"/> threads and
    /// <paramref name="avx512"/>'s vector width: what the generator's ConvScheduler must have chosen for a generated layer
    /// of that signature (a test holds the two to each other).
    /// </summary>
    internal static (int Tiles, int FiveVectorTiles, ThreadSplit Split) FallbackSchedule(int outChannels, int inChannels, int height,
        int width, int kernel, int stride, int outHeight, int outWidth, int threads, bool avx512)
    {
        var args = new Args
        {
            M = outChannels, Channels = inChannels, Height = height, Width = width, Kernel = kernel,
            Stride = stride, OutHeight = outHeight, OutWidth = outWidth,
        };
        return avx512 ? FallbackSchedule<Simd512, Vector512<float>>(ref args, threads) : FallbackSchedule<Simd256, Vector256<float>>(ref args, threads);
    }

    private static (int Tiles, int FiveVectorTiles, ThreadSplit Split) FallbackSchedule<S, V>(ref Args args, int threads)
        where S : struct, ISimd<V> where V : struct
    {
        int vectors = (Pixels<Planned>(ref args) + S.Lanes - 1) / S.Lanes, tiles, five = 0;
        if (S.TileVectors == 4)
        {
            // Tiles of 4 vectors, the first few of 5, so that no vector is computed in vain: 14×14 is 14 vectors
            // along the padded rows, 5 + 5 + 4, where tiles of 4 computed 16.
            tiles = Math.Max(1, vectors / 4);
            five = Math.Max(0, vectors - 4 * tiles);
            if (five > tiles)
            {
                tiles = (vectors + 3) / 4;
                five = 0;
            }
        }
        else
        {
            // 3-vector tiles (AVX2 has no room for a fourth column of accumulators); the last computes up to 2 vectors in vain.
            tiles = (vectors + S.TileVectors - 1) / S.TileVectors;
        }
        // A range of pixel tiles per thread when there are enough to go round, else a range of weight panels over
        // all pixels (14×14 and 7×7 maps).
        int panels = (args.M + RowBlock - 1) / RowBlock;
        long macs = (long)args.M * args.Channels * args.Kernel * args.Kernel * args.OutHeight * args.OutWidth;
        var split = macs < ParallelThreshold ? ThreadSplit.Single
            : threads > 1 && tiles < 2 * threads && panels >= threads ? ThreadSplit.WeightPanels : ThreadSplit.PixelTiles;
        return (tiles, five, split);
    }

    /// <summary>
    /// A generated layer's conv on vectors <typeparamref name="S"/>: its shape, fusions, tiles and thread split are the
    /// constants of <typeparamref name="T"/>, checked once (<see cref="Refusal{T, S, V}"/>). The 512-bit copy runs without
    /// AVX-512 too, in software: the tests' way on machines that lack it (<see cref="Layers.ConvKernels.DirectAvx512{T}"/>
    /// refuses to).
    /// </summary>
    internal static void Conv<T, S, V>(in ConvOperands io) where T : struct, IDirectConvLayer where S : struct, ISimd<V> where V : struct
    {
        if (Verdict<T, S, V>.Refusal is { } refusal) throw new InvalidOperationException(refusal);
        var args = new Args { A = io.Weights, Bias = io.Bias, Source = io.Source, Second = T.Summed ? io.Second : null, C = io.Destination };
        Run<Compiled<T>, S, V>(args);
    }

    private static void Run<L, S, V>(Args args) where L : struct, ILayer where S : struct, ISimd<V> where V : struct =>
        Workers.Run(L.Split(ref args) == ThreadSplit.Single ? 1 : Workers.MaxThreads, &Part<L, S, V>, &args);

    private static class Verdict<T, S, V> where T : struct, IDirectConvLayer where S : struct, ISimd<V> where V : struct
    {
        public static readonly string? Refusal = Refusal<T, S, V>();
    }

    /// <summary>
    /// Why <typeparamref name="T"/> cannot run here, or null: what the kernel would otherwise compute wrong or read and
    /// write out of bounds for (a schedule the generator got wrong must fail loudly, once).
    /// </summary>
    internal static string? Refusal<T, S, V>() where T : struct, IDirectConvLayer where S : struct, ISimd<V> where V : struct
    {
        string layer = $"{typeof(T).Name} ({T.Kernel}×{T.Kernel} conv, stride {T.Stride}, padding {T.Padding}, " +
            $"{T.InChannels}×{T.Height}×{T.Width} → {T.OutChannels}×{T.OutHeight}×{T.OutWidth}{(T.Summed ? ", summed input" : "")})";
        string kernel = S.Lanes == 16 ? "DirectAvx512" : "DirectAvx2";
        string Refuse(string why) => $"{layer} cannot run on ConvKernels.{kernel}: {why}";
        if (T.OutChannels < 1 || T.InChannels < 1) return Refuse("it needs at least one input and one output channel");
        if (!Handles(T.Kernel, T.Stride, T.Padding, T.Height, T.Width, T.OutHeight, T.OutWidth, T.Summed))
        {
            return Refuse("DirectConv runs 3×3 and 7×7 convs with \"same\" padding (kernel / 2) at stride 1 (output the " +
                "input's size), or at stride 2 (output ⌈size / 2⌉) without a summed input; schedule this layer on a GEMM kernel");
        }
        if (T.TailChannel != 0) return Refuse($"it reads one input buffer, not a concat (TailChannel is {T.TailChannel}, must be 0)");
        if (T.Residual) return Refuse("its epilogue adds no residual (Residual must be false)");
        if (!Enum.IsDefined(T.Split)) return Refuse($"Split {(int)T.Split} is not a ThreadSplit");
        // The planes' size in long, before any int arithmetic on it below.
        long rows = T.Stride == 1 ? T.Height + 2L * T.Padding : T.OutHeight + (long)T.Padding;
        long rowWidth = T.Stride == 1 ? T.Width + 2L * T.Padding : T.OutWidth + (long)T.Padding;
        if ((long)T.InChannels * T.Stride * T.Stride * rows * rowWidth + PlaneSlack > Array.MaxLength)
        {
            return Refuse("its planes would not fit one array");
        }
        var g = default(Args);
        int n = Pixels<Compiled<T>>(ref g), tiles = T.Tiles, five = T.FiveVectorTiles;
        if (tiles < 1 || five < 0 || five > tiles)
        {
            return Refuse($"Tiles {tiles} and FiveVectorTiles {five}: there must be at least one tile, and 0 to Tiles of them 5 vectors wide");
        }
        if (five > 0 && S.TileVectors != 4)
        {
            return Refuse($"FiveVectorTiles {five}: tiles of {S.TileVectors} vectors take no extra vector (only AVX-512's tiles of 4 do); it must be 0");
        }
        long Start(long tile) => tile * S.TileVectors * S.Lanes + Math.Min(tile, five) * S.Lanes; // TileStart, without overflow
        if (Start(tiles) < n || Start(tiles - 1) >= n)
        {
            string widths = five > 0 ? $"{five} of 5 vectors, the others 4" : $"of {S.TileVectors} vectors of {S.Lanes}";
            return Refuse($"{tiles} tiles ({widths}) cover {Start(tiles)} plane-row pixels; " +
                $"this layer has {n}: the tiles must cover them all, and the last must start inside them");
        }
        return null;
    }

    /// <summary>
    /// One thread's share, as <see cref="ILayer.Split"/> says: a range of pixel tiles, or a range of weight panels over
    /// all pixels (with one thread, both are the whole layer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Part<L, S, V>(void* state, int part, int parts) where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        int wq = RowWidth<L>(ref g), n = Pixels<L>(ref g);
        int tiles = L.Tiles(ref g), five = L.FiveVectorTiles(ref g);
        int panels = (L.M(ref g) + RowBlock - 1) / RowBlock;
        int t0 = 0, t1 = tiles, p0 = 0, p1 = panels;
        if (L.Split(ref g) == ThreadSplit.PixelTiles)
        {
            t0 = tiles * part / parts;
            t1 = tiles * (part + 1) / parts;
        }
        else if (L.Split(ref g) == ThreadSplit.WeightPanels)
        {
            p0 = panels * part / parts;
            p1 = panels * (part + 1) / parts;
        }
        if (t0 >= t1 || p0 >= p1) return;
        int q0 = TileStart<S, V>(t0, five), q1 = Math.Min(n, TileStart<S, V>(t1, five));

        int k = L.Kernel(ref g), stride = L.Stride(ref g);
        long floats = L.Channels(ref g) * ChannelFloats<L>(ref g) + PlaneSlack;
        float* planes = AlignedBuffer.Grow(ref t_planes, floats);
        // The plane rows this thread's outputs read: output row y reads rows y .. y + (k − 1) / stride.
        int r0 = q0 / wq, r1 = Math.Min(PlaneRows<L>(ref g) - 1, (q1 - 1) / wq + (k - 1) / stride);
        if (stride == 1) Pad<L, S, V>(ref g, planes, r0, r1);
        else Phases<L>(ref g, planes, r0, r1);

        // Where each tap (ky, kx) starts, from a channel's first plane.
        int* taps = stackalloc int[k * k];
        long plane = (long)PlaneRows<L>(ref g) * wq;
        for (int t = 0; t < k * k; t++)
        {
            int ky = t / k, kx = t % k;
            taps[t] = stride == 1 ? ky * wq + kx : (int)(((ky & 1) * 2 + (kx & 1)) * plane) + (ky >> 1) * wq + (kx >> 1);
        }
        for (int t = t0; t < t1; t++)
        {
            int q = TileStart<S, V>(t, five), end = Math.Min(n, TileStart<S, V>(t + 1, five));
            if (end - q > S.TileVectors * S.Lanes)
            {
                for (int p = p0; p < p1; p++) Multiply<L, S, V, FiveVectors>(ref g, planes, taps, p * RowBlock, q, end);
            }
            else
            {
                for (int p = p0; p < p1; p++) Multiply<L, S, V, FourVectors>(ref g, planes, taps, p * RowBlock, q, end);
            }
        }
    }

    /// <summary>Stride 1: rows [r0, r1] of every channel's bordered plane, the input (plus the second input) inside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pad<L, S, V>(ref Args g, float* planes, int r0, int r1) where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        int height = L.Height(ref g), width = L.Width(ref g), pad = Padding<L>(ref g), wp = RowWidth<L>(ref g);
        int channels = L.Channels(ref g);
        long channelFloats = ChannelFloats<L>(ref g);
        bool summed = L.Summed(ref g);
        for (int c = 0; c < channels; c++)
        {
            float* dst = planes + c * channelFloats;
            float* s1 = g.Source + (long)c * height * width;
            float* s2 = summed ? g.Second + (long)c * height * width : null;
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
                if (!summed)
                {
                    Unsafe.CopyBlockUnaligned(inside, s1 + at, (uint)width * sizeof(float));
                    continue;
                }
                int i = 0;
                for (; i + S.Lanes <= width; i += S.Lanes) S.Store(S.Add(S.Load(s1 + at + i), S.Load(s2 + at + i)), inside + i);
                if (i < width)
                {
                    // Rows of 7, 14 or 28: the tail is most of the row, so it is one masked vector, not a scalar loop.
                    var mask = S.LanesBetween(0, width - i);
                    S.MaskStore(inside + i, mask, S.Add(S.MaskLoad(s1 + at + i, mask), S.MaskLoad(s2 + at + i, mask)));
                }
            }
        }
    }

    /// <summary>
    /// Stride 2: rows [r0, r1] of every channel's four phases. Phase (py, px) row r, column s holds padded pixel
    /// (2r + py, 2s + px), that is input pixel (2r + py − p, 2s + px − p), zero outside the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Phases<L>(ref Args g, float* planes, int r0, int r1) where L : struct, ILayer
    {
        int height = L.Height(ref g), width = L.Width(ref g), pad = Padding<L>(ref g), wq = RowWidth<L>(ref g);
        int channels = L.Channels(ref g);
        long plane = (long)PlaneRows<L>(ref g) * wq, channelFloats = ChannelFloats<L>(ref g);
        // An input row's even columns go to phase column px = p mod 2 from s = (p − px) / 2 on, its odd columns to
        // the other phase from s = (p + 1 − px) / 2: one pass splits a row into both.
        int evenPhase = pad & 1, oddPhase = 1 - evenPhase;
        int evenStart = (pad - evenPhase) / 2, oddStart = (pad + 1 - oddPhase) / 2;
        int evens = Math.Min((width + 1) / 2, wq - evenStart), odds = Math.Min(width / 2, wq - oddStart);
        for (int c = 0; c < channels; c++)
        {
            float* src = g.Source + (long)c * height * width;
            for (int py = 0; py < 2; py++)
            {
                float* phases = planes + c * channelFloats + py * 2 * plane;
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
    /// The micro-kernel: 4 output channels × one tile of plane-row pixels from <paramref name="q"/> (3 or 4 vectors, a
    /// fifth for <see cref="FiveVectors"/>; the results of [q, <paramref name="end"/>) kept), over all channels × k²
    /// taps, then bias, ReLU and the store. Columns the width lacks are removed by the JIT, as in <see cref="Gemm"/>'s tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply<L, S, V, W>(ref Args g, float* planes, int* taps, int row, int q, int end)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct where W : struct, ITileColumns
    {
        int lanes = S.Lanes;
        bool four = S.TileVectors == 4;
        bool fifth = four && W.Fifth;
        int taps2 = L.Kernel(ref g) * L.Kernel(ref g), channels = L.Channels(ref g);
        float* a = g.A + (long)row * channels * taps2;
        long channel = ChannelFloats<L>(ref g);
        V c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        V c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        V c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        V c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        float* r0 = planes + q;
        for (int c = 0; c < channels; c++, r0 += channel)
        {
            // The cache lines of weights this channel's taps will need WeightPrefetch floats ahead (a 3×3's 36 floats
            // span 2 or 3 lines), asked for here rather than every 4 taps inside the tap loop, which cost it a branch a tap.
            if (Sse.IsSupported)
            {
                for (int ahead = 0; ahead < taps2 * RowBlock + 16; ahead += 16) Sse.Prefetch0(a + WeightPrefetch + ahead);
            }
            for (int t = 0; t < taps2; t++, a += RowBlock)
            {
                float* b = r0 + taps[t];
                V b0 = S.Load(b), b1 = S.Load(b + lanes), b2 = S.Load(b + 2 * lanes);
                V b3 = four ? S.Load(b + 3 * lanes) : default;
                V b4 = fifth ? S.Load(b + 4 * lanes) : default;
                V a0 = S.Broadcast(a[0]);
                c00 = S.MultiplyAdd(a0, b0, c00); c01 = S.MultiplyAdd(a0, b1, c01); c02 = S.MultiplyAdd(a0, b2, c02);
                if (four) c03 = S.MultiplyAdd(a0, b3, c03);
                if (fifth) c04 = S.MultiplyAdd(a0, b4, c04);
                V a1 = S.Broadcast(a[1]);
                c10 = S.MultiplyAdd(a1, b0, c10); c11 = S.MultiplyAdd(a1, b1, c11); c12 = S.MultiplyAdd(a1, b2, c12);
                if (four) c13 = S.MultiplyAdd(a1, b3, c13);
                if (fifth) c14 = S.MultiplyAdd(a1, b4, c14);
                V a2 = S.Broadcast(a[2]);
                c20 = S.MultiplyAdd(a2, b0, c20); c21 = S.MultiplyAdd(a2, b1, c21); c22 = S.MultiplyAdd(a2, b2, c22);
                if (four) c23 = S.MultiplyAdd(a2, b3, c23);
                if (fifth) c24 = S.MultiplyAdd(a2, b4, c24);
                V a3 = S.Broadcast(a[3]);
                c30 = S.MultiplyAdd(a3, b0, c30); c31 = S.MultiplyAdd(a3, b1, c31); c32 = S.MultiplyAdd(a3, b2, c32);
                if (four) c33 = S.MultiplyAdd(a3, b3, c33);
                if (fifth) c34 = S.MultiplyAdd(a3, b4, c34);
            }
        }
        int rows = Gemm.Rows(L.M(ref g), row);
        V bias0 = S.Broadcast(g.Bias[row]);
        V bias1 = rows > 1 ? S.Broadcast(g.Bias[row + 1]) : default;
        V bias2 = rows > 2 ? S.Broadcast(g.Bias[row + 2]) : default;
        V bias3 = rows > 3 ? S.Broadcast(g.Bias[row + 3]) : default;
        Store<L, S, V>(ref g, row, rows, q, end, S.Add(c00, bias0), S.Add(c10, bias1), S.Add(c20, bias2), S.Add(c30, bias3));
        if (q + lanes < end) Store<L, S, V>(ref g, row, rows, q + lanes, end, S.Add(c01, bias0), S.Add(c11, bias1), S.Add(c21, bias2), S.Add(c31, bias3));
        if (q + 2 * lanes < end) Store<L, S, V>(ref g, row, rows, q + 2 * lanes, end, S.Add(c02, bias0), S.Add(c12, bias1), S.Add(c22, bias2), S.Add(c32, bias3));
        if (four && q + 3 * lanes < end) Store<L, S, V>(ref g, row, rows, q + 3 * lanes, end, S.Add(c03, bias0), S.Add(c13, bias1), S.Add(c23, bias2), S.Add(c33, bias3));
        if (fifth && q + 4 * lanes < end) Store<L, S, V>(ref g, row, rows, q + 4 * lanes, end, S.Add(c04, bias0), S.Add(c14, bias1), S.Add(c24, bias2), S.Add(c34, bias3));
    }

    /// <summary>
    /// One vector of lanes from q, up to 4 output channels, to the output: lane q + l of plane row y is output pixel
    /// <c>q + l − y·border</c>, kept where its column is inside the output and q + l &lt; <paramref name="end"/>.
    /// One masked store per channel and plane row the vector touches (two, or three on a 7×7 map), the masks
    /// worked out once for the 4 channels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<L, S, V>(ref Args g, int row, int rows, int q, int end, V v0, V v1, V v2, V v3)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        if (L.Relu(ref g))
        {
            v0 = S.Relu(v0);
            v1 = S.Relu(v1);
            v2 = S.Relu(v2);
            v3 = S.Relu(v3);
        }
        int outWidth = L.OutWidth(ref g), wq = RowWidth<L>(ref g), border = wq - outWidth;
        long channel = (long)L.OutHeight(ref g) * outWidth;
        int last = Math.Min(q + S.Lanes, end) - 1;
        for (int y = q / wq; y <= last / wq; y++)
        {
            int start = y * wq, from = Math.Max(start, q) - q, to = Math.Min(start + outWidth, end) - q;
            float* c = g.C + row * channel + q - border * y;
            if (from == 0 && to == S.Lanes)
            {
                // The whole vector lies inside one output row (most of a 56-wide map's): plain stores. A masked store
                // is microcoded on AMD's cores (AVX's vmaskmovps most of all) and cost the AVX2 tiles a third of their time.
                S.Store(v0, c);
                if (rows > 1) S.Store(v1, c + channel);
                if (rows > 2) S.Store(v2, c + 2 * channel);
                if (rows > 3) S.Store(v3, c + 3 * channel);
                continue;
            }
            var mask = S.LanesBetween(from, to);
            S.MaskStore(c, mask, v0);
            if (rows > 1) S.MaskStore(c + channel, mask, v1);
            if (rows > 2) S.MaskStore(c + 2 * channel, mask, v2);
            if (rows > 3) S.MaskStore(c + 3 * channel, mask, v3);
        }
    }
}
