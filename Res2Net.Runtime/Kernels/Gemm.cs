using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Res2Net.Runtime.Kernels.Layers;

namespace Res2Net.Runtime.Kernels;

/// <summary>
/// A convolution as a GEMM: <c>C[m, n] = A[m, k] · B[k, n] + bias[m] (+ residual[m, n]), then ReLU</c>.
/// A is the conv's packed weights (panels of <see cref="RowBlock"/> output channels, BatchNorm folded in);
/// B is its input seen as <c>k = Cin·kh·kw</c> rows of <c>n = Hout·Wout</c> output pixels, the dimension the SIMD
/// lanes run over: a 1×1 conv's activations as they lie (a concat joined from two buffers), anything else
/// gathered first by <see cref="Gather"/> (which also adds Res2Net's <c>sp + spx[i]</c>). Where enough weight
/// panels reuse it, each k-slice × tile of B is packed into a small per-thread buffer, so the micro-kernel reads
/// it from L1 at unit stride.
/// Bias, residual add and ReLU happen in registers before the single store. 3×3 and 7×7 convs with "same" padding
/// (stride 1 or 2) skip the gathered matrix: <see cref="DirectConv"/> reads shifted planes.
/// Generated layers run through <see cref="ConvKernels"/>, each with its own copy of the code below, shapes and
/// schedule folded in; <see cref="Conv"/> is the fallback that decides them at run time. The result is the same to
/// the bit whatever the schedule, thread count or vector width: every output sums its K products in the same order
/// (one fused multiply-add each, the partial sums of a depth slice stored and reloaded exactly), then adds the bias,
/// the residual, and applies ReLU.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Output channels computed together; the packed weight layout depends on it.</summary>
    public const int RowBlock = 4;

    /// <summary>
    /// Floats every activation buffer must have readable after its end: a partial tile loads whole vectors of
    /// B or of the residual past the last column (the extra lanes are computed and dropped, never stored).
    /// </summary>
    public const int ReadSlack = 64;

    /// <summary>Inputs per depth slice: a slice × 64-pixel block of B is 32 KB, inside L1 with room for the weights.</summary>
    private const int DepthBlock = 128;

    /// <summary>Weight panels that must pass over a B tile for packing it to pay.</summary>
    private const int PackPanels = 8;

    /// <summary>The widest tile (5 × 16 lanes, see <see cref="FiveVectors"/>); the packing buffer's row length.</summary>
    private const int MaxTile = 80;

    /// <summary>
    /// How far ahead (floats) the micro-kernel asks for weights, one cache line every 4 steps. Weights are read
    /// in address order and used once per pixel tile, so late stages (49 pixels, megabytes of weights per layer)
    /// are bound by how fast they arrive from memory: the hardware prefetcher alone delivered about 8 GB/s
    /// there, and this made res2net50-w26-s8's layer4 take 10.9 ms instead of 14.4, and a whole w14-s8 forward
    /// 27 ms instead of 30 (docs/performance.md).
    /// </summary>
    private const int WeightPrefetch = 512;

    /// <summary>Below this many multiply-adds the fallback runs a layer on one thread: waking a worker would cost more.</summary>
    private const long ParallelThreshold = 1 << 18;

    // One per thread: the layers of a batch may run on several threads at once, each with its own B tiles.
    [ThreadStatic]
    private static float[]? t_packed;

    // The receptive-field matrix of a k×k, strided or summed conv, owned by the thread that runs the layer
    // (its workers only read it). It grows to the network's largest such layer on the first forward, then
    // is reused: long-row copies lay it out faster than gathering each tile, which small-M layers cannot amortize.
    [ThreadStatic]
    private static float[]? t_columns;

    /// <summary>
    /// Where one layer reads and writes, shared by its threads; the fields after the pointers are the fallback's
    /// layer, read through <see cref="Planned"/> (a generated layer's are constants of its type).
    /// </summary>
    private struct Args
    {
        public float* A, C, Bias, Residual;

        /// <summary>B: the activations (<see cref="GemmInput.InPlace"/>) or the receptive-field matrix.</summary>
        public float* Source, Tail;

        /// <summary>The gathering each thread does for its own pixels (<see cref="GemmInput.GatheredPerThread"/>).</summary>
        public Gather.Job* Gather;

        /// <summary>The gathering of a strided tail (a folded shortcut's input) each thread does for its own pixels.</summary>
        public Gather.Job* TailGather;

        public int M, N, K, TailRow;
        public bool Relu, PackB;
        public ThreadSplit Split;
        public GemmInput Input;
        public GemmRemainder Remainder;
    }

    /// <summary>
    /// The layer as the kernel code reads it. <see cref="Compiled{T}"/> answers with a generated layer's constants,
    /// so the JIT folds every answer into that layer's own copy of the code; <see cref="Planned"/> answers with what
    /// the fallback decided at run time. One code serves both, so the two cannot drift apart.
    /// </summary>
    private interface ILayer
    {
        /// <summary>Rows of C: output channels.</summary>
        static abstract int M(ref Args g);

        /// <summary>Columns of B and C: output pixels.</summary>
        static abstract int N(ref Args g);

        /// <summary>Rows of B: input channels × kernel taps.</summary>
        static abstract int K(ref Args g);

        /// <summary>The first row of B read from <see cref="Args.Tail"/>; <see cref="int.MaxValue"/> when there is none.</summary>
        static abstract int TailRow(ref Args g);

        static abstract bool Residual(ref Args g);
        static abstract bool Relu(ref Args g);
        static abstract ThreadSplit Split(ref Args g);
        static abstract GemmInput Input(ref Args g);
        static abstract bool PackB(ref Args g);
        static abstract GemmRemainder Remainder(ref Args g);
    }

    private readonly struct Compiled<T> : ILayer where T : struct, IGemmConvLayer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int M(ref Args g) => T.OutChannels;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int N(ref Args g) => T.OutHeight * T.OutWidth;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int K(ref Args g) => T.InChannels * T.Kernel * T.Kernel;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int TailRow(ref Args g) => T.TailChannel > 0 ? T.TailChannel : int.MaxValue;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Residual(ref Args g) => T.Residual;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Relu(ref Args g) => T.Relu;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ThreadSplit Split(ref Args g) => T.Split;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static GemmInput Input(ref Args g) => T.Input;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool PackB(ref Args g) => T.PackB;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static GemmRemainder Remainder(ref Args g) => T.Remainder;
    }

    private readonly struct Planned : ILayer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int M(ref Args g) => g.M;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int N(ref Args g) => g.N;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int K(ref Args g) => g.K;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int TailRow(ref Args g) => g.TailRow;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Residual(ref Args g) => g.Residual != null;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Relu(ref Args g) => g.Relu;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ThreadSplit Split(ref Args g) => g.Split;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static GemmInput Input(ref Args g) => g.Input;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool PackB(ref Args g) => g.PackB;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static GemmRemainder Remainder(ref Args g) => g.Remainder;
    }

    /// <summary>
    /// The FALLBACK: runs one conv layer of any geometry, deciding at run time what a generated layer's type fixes at
    /// generation time (<see cref="ConvKernels"/>): DirectConv or the GEMM, how B is made, the thread split, packing and
    /// what follows the whole tiles. It is what the tests, the profiler's replay and any layer the generator does
    /// not specialize run; it then runs the very code the specialized kernels do, so both give the same bits.
    /// <paramref name="second"/>, if not null, is added to <paramref name="source"/> element-wise (the hierarchical
    /// add); <paramref name="tail"/>, if not null, supplies input channels from <paramref name="tailChannel"/> on (a
    /// 1×1 conv over a concat of two buffers), read every <paramref name="tailStride"/>-th pixel of its
    /// <paramref name="tailHeight"/> × <paramref name="tailWidth"/> map (a stage block's shortcut conv folded into
    /// conv3; 0 means the conv's own map).
    /// </summary>
    public static void Conv(float* weights, float* bias, float* source, float* second, float* tail, int tailChannel,
        float* destination, float* residual, bool relu, int outChannels, int inChannels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth, int tailStride = 1, int tailHeight = 0, int tailWidth = 0)
    {
        if (tailStride < 1) throw new ArgumentOutOfRangeException(nameof(tailStride), tailStride, "at least 1");
        if (tailHeight == 0) tailHeight = height;
        if (tailWidth == 0) tailWidth = width;
        if (tail != null && ((tailHeight - 1) / tailStride + 1 != outHeight || (tailWidth - 1) / tailStride + 1 != outWidth))
        {
            throw new ArgumentException($"a {tailHeight}×{tailWidth} tail read at stride {tailStride} is not the {outHeight}×{outWidth} output", nameof(tail));
        }
        if (tail == null && residual == null && DirectConv.Handles(kernel, stride, padding, height, width, outHeight, outWidth, second != null))
        {
            DirectConv.Conv(weights, bias, source, second, destination, relu, outChannels, inChannels, height, width, kernel, stride, outHeight, outWidth);
            LayerClock.Mark();
            return;
        }
        bool inPlace = kernel == 1 && stride == 1 && padding == 0 && second == null;
        if (!inPlace && tail != null) throw new ArgumentException("a concat tail needs a 1×1 stride-1 conv", nameof(tail));
        var args = new Args
        {
            A = weights, Bias = bias, C = destination, Residual = residual, Relu = relu,
            Source = source, Tail = tail, TailRow = tail == null ? int.MaxValue : tailChannel,
            M = outChannels, N = outHeight * outWidth, K = inChannels * kernel * kernel,
        };
        var job = inPlace ? default : Gather.Describe(source, second, inChannels, height, width, kernel, stride, padding, outHeight, outWidth, null);
        var tailJob = tail != null && tailStride > 1
            ? Gather.Describe(tail, null, inChannels - tailChannel, tailHeight, tailWidth, 1, tailStride, 0, outHeight, outWidth, null)
            : default;
        if (Vector512.IsHardwareAccelerated)
        {
            Plan<Simd512, Vector512<float>>(ref args, inPlace, Workers.MaxThreads);
            Run<Planned, Simd512, Vector512<float>>(args, job, tailJob);
        }
        else
        {
            Plan<Simd256, Vector256<float>>(ref args, inPlace, Workers.MaxThreads);
            Run<Planned, Simd256, Vector256<float>>(args, job, tailJob);
        }
        LayerClock.Mark();
    }

    /// <summary>
    /// The fallback's schedule for a layer of M × N × K on <paramref name="avx512"/>'s vector width and
    /// <paramref name="threads"/> threads: what the generator's ConvScheduler must have chosen for a generated layer of
    /// that signature (a test holds the two rule sets to each other).
    /// </summary>
    internal static (ThreadSplit Split, GemmInput Input, bool PackB, GemmRemainder Remainder) FallbackSchedule(
        int m, int n, int k, bool inPlace, bool tail, int threads, bool avx512)
    {
        var g = new Args { M = m, N = n, K = k, Tail = tail ? (float*)1 : null };
        if (avx512) Plan<Simd512, Vector512<float>>(ref g, inPlace, threads);
        else Plan<Simd256, Vector256<float>>(ref g, inPlace, threads);
        return (g.Split, g.Input, g.PackB, g.Remainder);
    }

    /// <summary>The fallback's schedule for a layer of M × N × K, on <paramref name="threads"/> threads and vector width S.</summary>
    private static void Plan<S, V>(ref Args g, bool inPlace, int threads) where S : struct, ISimd<V> where V : struct
    {
        int tile = S.TileVectors * S.Lanes;
        int panels = (g.M + RowBlock - 1) / RowBlock, tiles = g.N / tile;
        // A range of pixel tiles per thread when there are enough to go round (each thread then streams all weights
        // over its own pixels), else a range of weight panels over all pixels (layer4's 7×7).
        g.Split = (long)g.M * g.N * g.K < ParallelThreshold ? ThreadSplit.Single
            : threads > 1 && tiles < 2 * threads && panels >= threads ? ThreadSplit.WeightPanels : ThreadSplit.PixelTiles;
        // Threads that split the pixels gather their own; split by panels, they all read the whole matrix.
        g.Input = inPlace ? GemmInput.InPlace : g.Split == ThreadSplit.WeightPanels ? GemmInput.Gathered : GemmInput.GatheredPerThread;
        // Packing costs a copy of each B tile; it pays off once enough panels reuse it (layer1's 3×3 convs have
        // 14 output channels, 4 panels: there B is read in place). A concat tail must be packed to be joined.
        int threadPanels = g.Split == ThreadSplit.WeightPanels ? panels / threads : panels;
        g.PackB = g.Tail != null || threadPanels >= PackPanels;
        g.Remainder = RemainderOf<S, V>(g.N);
    }

    /// <summary>
    /// What the fallback does with the pixels whole tiles leave: at most one vector joins the last whole tile as a fifth
    /// vector column (a 14×14 map is 3 tiles and 4 pixels; 28×28 is 12 and 16) instead of a pass of single vectors
    /// over all the weights; a 7×7 map's 49 run as three vectors and a pixel (<see cref="TileAndAPixel"/>); on AVX2,
    /// up to <see cref="MaxPixelsAcrossPanels"/> pixels run as 4-channel FMAs over groups of panels (7×7 leaves 1, 14×14
    /// leaves 4: <see cref="PixelsOfPanels{L, P}"/>); a nearly whole tile runs as one narrower tile (one pass over the
    /// weights beats several); else single vectors.
    /// </summary>
    private static GemmRemainder RemainderOf<S, V>(int n) where S : struct, ISimd<V> where V : struct
    {
        int tile = S.TileVectors * S.Lanes, rest = n % tile;
        if (rest == 0) return GemmRemainder.None;
        if (S.TileVectors == 4 && n > tile && rest <= S.Lanes) return GemmRemainder.FifthVector;
        if (S.TileVectors == 4 && S.Lanes == 16 && rest == 3 * S.Lanes + 1) return GemmRemainder.ThreeVectorsAndAPixel;
        if (S.Lanes == 8 && rest <= MaxPixelsAcrossPanels) return GemmRemainder.PixelsAcrossPanels;
        return rest > (S.TileVectors - 1) * S.Lanes ? GemmRemainder.NarrowTile : GemmRemainder.Vectors;
    }

    /// <summary>
    /// A generated layer's conv on vectors <typeparamref name="S"/>: its shape, fusions and schedule are the constants
    /// of <typeparamref name="T"/>, checked once (<see cref="Refusal{T, S, V}"/>). The 512-bit copy runs without
    /// AVX-512 too, in software: the tests' way on machines that lack it (<see cref="ConvKernels.GemmAvx512{T}"/> refuses to).
    /// </summary>
    internal static void Conv<T, S, V>(in ConvOperands io) where T : struct, IGemmConvLayer where S : struct, ISimd<V> where V : struct
    {
        if (Verdict<T, S, V>.Refusal is { } refusal) throw new InvalidOperationException(refusal);
        var args = new Args
        {
            A = io.Weights, Bias = io.Bias, C = io.Destination, Residual = T.Residual ? io.Residual : null,
            Source = io.Source, Tail = T.TailChannel > 0 ? io.Tail : null,
        };
        var job = T.Input == GemmInput.InPlace ? default : Gather.Describe(io.Source, T.Summed ? io.Second : null, T.InChannels,
            T.Height, T.Width, T.Kernel, T.Stride, T.Padding, T.OutHeight, T.OutWidth, null);
        var (tailHeight, tailWidth) = TailMap<T>();
        var tailJob = T.TailChannel > 0 && T.TailStride > 1
            ? Gather.Describe(io.Tail, null, T.InChannels - T.TailChannel, tailHeight, tailWidth, 1, T.TailStride, 0, T.OutHeight, T.OutWidth, null)
            : default;
        Run<Compiled<T>, S, V>(args, job, tailJob);
    }

    /// <summary>
    /// Makes B as the layer says (gathered now, by each thread later, or read in place), then runs the threads. A tail read
    /// at a stride (<paramref name="tail"/> describes it: a folded shortcut's input) is gathered the same way into a matrix
    /// of the output's pixels, which the packing then joins as it joins a tail read in place: each plane is read in order,
    /// as the shortcut conv's own gather read it (packing straight from the strided planes missed the cache on every
    /// tile: layer2.0.conv3 of res2net50-w14-s8 took 5.1–5.5 ms on one thread where downsample and conv3 took 4.8–5.0).
    /// </summary>
    private static void Run<L, S, V>(Args args, Gather.Job job, Gather.Job tail) where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        if (tail.Channels > 0)
        {
            // A tail needs B in place (Refusal), so the matrix buffer is free for it.
            tail.Col = args.Tail = AlignedBuffer.Grow(ref t_columns, (long)tail.Channels * L.N(ref args) + ReadSlack);
            if (L.Split(ref args) == ThreadSplit.WeightPanels) Gather.Im2Col(ref tail);
            else args.TailGather = &tail;
        }
        if (L.Input(ref args) != GemmInput.InPlace)
        {
            job.Col = args.Source = AlignedBuffer.Grow(ref t_columns, (long)L.K(ref args) * L.N(ref args) + ReadSlack);
            if (L.Input(ref args) == GemmInput.GatheredPerThread) args.Gather = &job;
            else Gather.Im2Col(ref job);
        }
        Workers.Run(L.Split(ref args) == ThreadSplit.Single ? 1 : Workers.MaxThreads, &Part<L, S, V>, &args);
    }

    /// <summary>The map a layer's tail is read from: its own (<see cref="IConvLayer.TailHeight"/> 0), or a strided shortcut input's.</summary>
    private static (int Height, int Width) TailMap<T>() where T : struct, IConvLayer =>
        (T.TailHeight == 0 ? T.Height : T.TailHeight, T.TailWidth == 0 ? T.Width : T.TailWidth);

    private static class Verdict<T, S, V> where T : struct, IGemmConvLayer where S : struct, ISimd<V> where V : struct
    {
        public static readonly string? Refusal = Refusal<T, S, V>();
    }

    /// <summary>
    /// Why <typeparamref name="T"/> cannot run on vectors <typeparamref name="S"/>, or null: what the kernel would
    /// otherwise compute wrong or read and write out of bounds for (a schedule the generator got wrong must fail
    /// loudly, once). Inefficient but correct choices are the generator's business, not refused.
    /// </summary>
    internal static string? Refusal<T, S, V>() where T : struct, IGemmConvLayer where S : struct, ISimd<V> where V : struct
    {
        string kernel = S.Lanes == 16 ? "GemmAvx512" : "GemmAvx2";
        string layer = $"{typeof(T).Name} ({T.Kernel}×{T.Kernel} conv, stride {T.Stride}, padding {T.Padding}, " +
            $"{T.InChannels}×{T.Height}×{T.Width} → {T.OutChannels}×{T.OutHeight}×{T.OutWidth})";
        string Refuse(string why) => $"{layer} cannot run on ConvKernels.{kernel}: {why}";
        if (T.OutChannels < 1 || T.InChannels < 1 || T.Height < 1 || T.Width < 1 || T.Kernel < 1 || T.Stride < 1 || T.Padding < 0)
        {
            return Refuse("channels, sizes, kernel and stride must be at least 1 and padding at least 0");
        }
        long outHeight = (T.Height + 2L * T.Padding - T.Kernel) / T.Stride + 1, outWidth = (T.Width + 2L * T.Padding - T.Kernel) / T.Stride + 1;
        if (T.Kernel > T.Height + 2L * T.Padding || T.Kernel > T.Width + 2L * T.Padding || T.OutHeight != outHeight || T.OutWidth != outWidth)
        {
            return Refuse($"the output of this conv is {outHeight}×{outWidth} ((size + 2·padding − kernel) / stride + 1)");
        }
        if (!Enum.IsDefined(T.Split) || !Enum.IsDefined(T.Input) || !Enum.IsDefined(T.Remainder))
        {
            return Refuse($"Split {(int)T.Split}, Input {(int)T.Input} or Remainder {(int)T.Remainder} is not a value of its enum");
        }
        long n = (long)T.OutHeight * T.OutWidth, k = (long)T.InChannels * T.Kernel * T.Kernel;
        if (n * k + ReadSlack > Array.MaxLength || (long)T.OutChannels * n > Array.MaxLength || (long)(T.OutChannels + RowBlock) * k > Array.MaxLength)
        {
            return Refuse("its matrices would not fit one array");
        }
        bool inPlaceGeometry = T.Kernel == 1 && T.Stride == 1 && T.Padding == 0 && !T.Summed;
        if (T.Input == GemmInput.InPlace && !inPlaceGeometry)
        {
            return Refuse("Input InPlace reads B as the activations lie, which only a 1×1 stride-1 conv without padding " +
                "or summed input can; it needs Gathered or GatheredPerThread");
        }
        if (T.TailChannel != 0 && (T.TailChannel < 1 || T.TailChannel >= T.InChannels || T.Input != GemmInput.InPlace || !T.PackB))
        {
            return Refuse($"TailChannel {T.TailChannel}: a concat tail is joined while B is packed, so it needs Input InPlace, " +
                $"PackB and a tail channel from 1 to {T.InChannels - 1}");
        }
        var (tailHeight, tailWidth) = TailMap<T>();
        if (T.TailStride < 1 || tailHeight < 1 || tailWidth < 1 || (T.TailChannel == 0 && (T.TailStride != 1 || T.TailHeight != 0 || T.TailWidth != 0)))
        {
            return Refuse($"TailStride {T.TailStride}, TailHeight {T.TailHeight}, TailWidth {T.TailWidth}: a tail's stride and map must be at " +
                "least 1 (0 for the map means the conv's own), and a layer without a tail keeps the defaults 1, 0, 0");
        }
        if (T.TailChannel > 0 && ((tailHeight - 1) / T.TailStride + 1 != T.OutHeight || (tailWidth - 1) / T.TailStride + 1 != T.OutWidth ||
            (long)(T.InChannels - T.TailChannel) * tailHeight * tailWidth > Array.MaxLength))
        {
            return Refuse($"a {tailHeight}×{tailWidth} tail read at stride {T.TailStride} gives " +
                $"{(tailHeight - 1) / T.TailStride + 1}×{(tailWidth - 1) / T.TailStride + 1} pixels, not the {T.OutHeight}×{T.OutWidth} output");
        }
        if (T.Input == GemmInput.GatheredPerThread && T.Split == ThreadSplit.WeightPanels)
        {
            return Refuse("Input GatheredPerThread with Split WeightPanels: every thread would gather all pixels into the one " +
                "matrix at once; split by panels, it needs Gathered");
        }
        int tile = S.TileVectors * S.Lanes, rest = (int)(n % tile);
        string pixels = $"{n} pixels are {n / tile} tiles of {tile} and {rest} more";
        string? remainder = T.Remainder switch
        {
            GemmRemainder.None when rest != 0 => $"Remainder None leaves pixels out: {pixels}",
            not GemmRemainder.None when rest == 0 => $"Remainder {T.Remainder}, but {pixels}: it must be None",
            GemmRemainder.FifthVector when S.TileVectors != 4 || n < tile || rest > S.Lanes =>
                $"Remainder FifthVector takes at most one vector of {S.Lanes} after at least one tile of 4 vectors " +
                $"(AVX-512); {pixels}",
            GemmRemainder.ThreeVectorsAndAPixel when S.Lanes != 16 || rest != 49 =>
                $"Remainder ThreeVectorsAndAPixel is for 49 pixels after the whole tiles of 64 (AVX-512); {pixels}",
            GemmRemainder.PixelsAcrossPanels when S.Lanes != 8 || rest > MaxPixelsAcrossPanels =>
                $"Remainder PixelsAcrossPanels takes 1 to {MaxPixelsAcrossPanels} pixels after the whole tiles of 24 (AVX2); {pixels}",
            _ => null,
        };
        return remainder == null ? null : Refuse(remainder);
    }

    /// <summary>
    /// One thread's share, as <see cref="ILayer.Split"/> says: a range of pixel tiles, each streaming all weights over
    /// its own pixels (and gathering them first when B is gathered per thread), or a range of weight panels over all
    /// pixels (with one thread, both are the whole layer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Part<L, S, V>(void* state, int part, int parts) where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        float* packed = L.PackB(ref g) ? AlignedBuffer.Grow(ref t_packed, DepthBlock * MaxTile) : null;
        int n = L.N(ref g), panels = (L.M(ref g) + RowBlock - 1) / RowBlock;
        if (L.Split(ref g) == ThreadSplit.WeightPanels)
        {
            Rect<L, S, V>(ref g, packed, panels * part / parts, panels * (part + 1) / parts, 0, n);
            return;
        }
        int tile = S.TileVectors * S.Lanes, tiles = n / tile;
        int t0 = tiles * part / parts, t1 = tiles * (part + 1) / parts;
        int j0 = t0 * tile, j1 = part == parts - 1 ? n : t1 * tile;
        if (j0 >= j1) return;
        if (L.Input(ref g) == GemmInput.GatheredPerThread) Gather.Range(ref *g.Gather, 0, g.Gather->Channels, j0, j1);
        if (g.TailGather != null) Gather.Range(ref *g.TailGather, 0, g.TailGather->Channels, j0, j1);
        Rect<L, S, V>(ref g, packed, 0, panels, j0, j1);
    }

    /// <summary>
    /// Panels [p0, p1) × columns [j0, j1): whole tiles, then, where the range ends at the last pixel, what they leave
    /// as <see cref="ILayer.Remainder"/> says (a thread's range ends on a whole tile otherwise).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rect<L, S, V>(ref Args g, float* packed, int p0, int p1, int j0, int j1)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        if (p0 >= p1) return;
        int tile = S.TileVectors * S.Lanes;
        var remainder = L.Remainder(ref g);
        bool last = j1 == L.N(ref g);
        int rest = last && remainder != GemmRemainder.None ? L.N(ref g) % tile : 0;
        // Where the whole tiles end: one tile earlier when the last takes the fifth vector, or passes over each group of
        // weight panels just before the pixels do (they then read the group's weights from cache, not memory).
        bool tileThenPixels = rest > 0 && remainder == GemmRemainder.PixelsAcrossPanels && j1 - rest - tile >= j0;
        int whole = j1 - rest - (rest > 0 && remainder == GemmRemainder.FifthVector || tileThenPixels ? tile : 0);
        for (int j = j0; j < whole; j += tile) Columns<L, S, V, WholeTiles>(ref g, packed, p0, p1, j, tile);
        if (rest == 0) return;
        if (remainder == GemmRemainder.FifthVector) Columns<L, S, V, FiveVectorTiles>(ref g, packed, p0, p1, whole, tile + rest);
        else if (remainder == GemmRemainder.ThreeVectorsAndAPixel) Columns<L, S, V, TilesAndAPixel>(ref g, packed, p0, p1, whole, rest);
        else if (tileThenPixels) Columns<L, S, V, TileThenPanelPixels>(ref g, packed, p0, p1, whole, tile + rest);
        else if (remainder == GemmRemainder.PixelsAcrossPanels) Columns<L, S, V, PanelPixels>(ref g, packed, p0, p1, whole, rest);
        else if (remainder == GemmRemainder.NarrowTile) Columns<L, S, V, WholeTiles>(ref g, packed, p0, p1, whole, rest);
        else Columns<L, S, V, SingleVectors>(ref g, packed, p0, p1, whole, rest);
    }

    /// <summary>
    /// Panels [p0, p1) × the <paramref name="width"/> columns from <paramref name="col"/>, on micro-kernel
    /// <typeparamref name="U"/>: for each depth slice, B is packed once (when the layer packs) and every panel passes
    /// over it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<L, S, V, U>(ref Args g, float* packed, int p0, int p1, int col, int width)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct where U : struct, IMicroKernel
    {
        int k = L.K(ref g), n = L.N(ref g);
        int stride = U.Kind is MicroKernel.FiveVectorTile or MicroKernel.TileThenPixels ? S.TileVectors * S.Lanes + S.Lanes : S.TileVectors * S.Lanes;
        for (int k0 = 0; k0 < k; k0 += DepthBlock)
        {
            int k1 = Math.Min(k, k0 + DepthBlock);
            float* b = g.Source + (long)k0 * n + col;
            int ldb = n;
            if (L.PackB(ref g))
            {
                Pack<L>(ref g, packed, stride, k0, k1, col, width);
                b = packed;
                ldb = stride;
            }
            if (U.Kind is MicroKernel.PixelsAcrossPanels or MicroKernel.TileThenPixels)
            {
                PanelGroups<L, S, V>(ref g, b, ldb, p0, p1, col, width, U.Kind == MicroKernel.TileThenPixels, k0, k1);
                continue;
            }
            for (int p = p0; p < p1; p++)
            {
                int row = p * RowBlock;
                if (U.Kind == MicroKernel.Tile) Tile<L, S, V, FourVectors>(ref g, b, ldb, row, col, width, k0, k1);
                else if (U.Kind == MicroKernel.FiveVectorTile) Tile<L, S, V, FiveVectors>(ref g, b, ldb, row, col, width, k0, k1);
                else if (U.Kind == MicroKernel.TileAndAPixel) TileAndAPixel<L>(ref g, b, ldb, row, col, k0, k1);
                else
                {
                    for (int v = 0; v < width; v += S.Lanes)
                    {
                        Vector<L, S, V>(ref g, b + v, ldb, row, col + v, Math.Min(S.Lanes, width - v), k0, k1);
                    }
                }
            }
        }
    }

    /// <summary>The micro-kernels a run of columns can take.</summary>
    private enum MicroKernel
    {
        /// <summary><see cref="Tile{L, S, V, W}"/>: <c>TileVectors</c> vectors (fewer columns stored when narrower).</summary>
        Tile,

        /// <summary><see cref="Tile{L, S, V, W}"/> with a fifth vector column (AVX-512).</summary>
        FiveVectorTile,

        /// <summary><see cref="TileAndAPixel"/> (AVX-512).</summary>
        TileAndAPixel,

        /// <summary><see cref="Vector{L, S, V}"/>, one vector at a time.</summary>
        Vectors,

        /// <summary><see cref="PanelGroups{L, S, V}"/>: a few pixels as 4-channel FMAs, several panels at once (AVX2).</summary>
        PixelsAcrossPanels,

        /// <summary><see cref="PanelGroups{L, S, V}"/> after a whole tile over each group of panels.</summary>
        TileThenPixels,
    }

    /// <summary>A micro-kernel as a type, so that each has its own copy of <see cref="Columns"/>, without the branch.</summary>
    private interface IMicroKernel
    {
        static abstract MicroKernel Kind { get; }
    }

    private readonly struct WholeTiles : IMicroKernel
    {
        public static MicroKernel Kind => MicroKernel.Tile;
    }

    private readonly struct FiveVectorTiles : IMicroKernel
    {
        public static MicroKernel Kind => MicroKernel.FiveVectorTile;
    }

    private readonly struct TilesAndAPixel : IMicroKernel
    {
        public static MicroKernel Kind => MicroKernel.TileAndAPixel;
    }

    private readonly struct SingleVectors : IMicroKernel
    {
        public static MicroKernel Kind => MicroKernel.Vectors;
    }

    private readonly struct PanelPixels : IMicroKernel
    {
        public static MicroKernel Kind => MicroKernel.PixelsAcrossPanels;
    }

    private readonly struct TileThenPanelPixels : IMicroKernel
    {
        public static MicroKernel Kind => MicroKernel.TileThenPixels;
    }

    /// <summary>
    /// Rows of the panel from <paramref name="row"/> that exist: 4 but in the last panel of a layer whose channels are
    /// not a multiple of 4 (a constant 4 for a compiled layer whose channels are).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Rows(int m, int row) => m % RowBlock == 0 ? RowBlock : Math.Min(RowBlock, m - row);

    /// <summary>
    /// Copies rows [k0, k1) × columns [col, col + width) of B into <paramref name="packed"/> (row length
    /// <paramref name="stride"/>, unused lanes zero so they never hold a NaN or a denormal): the micro-kernel
    /// then reads B at unit stride from L1, whatever the row length of the activations (no TLB miss per row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack<L>(ref Args g, float* packed, int stride, int k0, int k1, int col, int width) where L : struct, ILayer
    {
        int n = L.N(ref g), tailRow = L.TailRow(ref g);
        for (int k = k0; k < k1; k++)
        {
            float* dst = packed + (long)(k - k0) * stride;
            float* src = k < tailRow ? g.Source + (long)k * n : g.Tail + (long)(k - tailRow) * n;
            Unsafe.CopyBlockUnaligned(dst, src + col, (uint)width * sizeof(float));
            for (int i = width; i < stride; i++) dst[i] = 0f;
        }
    }

    /// <summary>
    /// The micro-kernel: 4 output channels × <c>TileVectors</c> vectors of pixels over all k inputs, then the
    /// epilogue. The fourth vector column exists only where <see cref="ISimd{TVector}.TileVectors"/> is 4, the
    /// fifth only for <see cref="FiveVectors"/>; the JIT removes them otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<L, S, V, W>(ref Args g, float* b, int ldb, int row, int col, int width, int k0, int k1)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct where W : struct, ITileColumns
    {
        float* a = g.A + (long)row * L.K(ref g) + (long)k0 * RowBlock;
        int n = L.N(ref g), lanes = S.Lanes;
        bool four = S.TileVectors == 4;
        bool five = four && W.Fifth;
        V c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        V c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        V c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        V c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        int rows = Rows(L.M(ref g), row);
        if (k0 > 0)
        {
            // Resume the partial sums an earlier depth slice left in C (rows past M were never written).
            float* c = g.C + (long)row * n + col;
            c00 = S.Load(c); c01 = S.Load(c + lanes); c02 = S.Load(c + 2 * lanes); if (four) c03 = S.Load(c + 3 * lanes);
            if (five) c04 = S.Load(c + 4 * lanes);
            c += n;
            if (rows > 1)
            {
                c10 = S.Load(c); c11 = S.Load(c + lanes); c12 = S.Load(c + 2 * lanes); if (four) c13 = S.Load(c + 3 * lanes);
                if (five) c14 = S.Load(c + 4 * lanes);
            }
            c += n;
            if (rows > 2)
            {
                c20 = S.Load(c); c21 = S.Load(c + lanes); c22 = S.Load(c + 2 * lanes); if (four) c23 = S.Load(c + 3 * lanes);
                if (five) c24 = S.Load(c + 4 * lanes);
            }
            c += n;
            if (rows > 3)
            {
                c30 = S.Load(c); c31 = S.Load(c + lanes); c32 = S.Load(c + 2 * lanes); if (four) c33 = S.Load(c + 3 * lanes);
                if (five) c34 = S.Load(c + 4 * lanes);
            }
        }
        for (int i = k0; i < k1; i++)
        {
            V b0 = S.Load(b), b1 = S.Load(b + lanes), b2 = S.Load(b + 2 * lanes);
            V b3 = four ? S.Load(b + 3 * lanes) : default;
            V b4 = five ? S.Load(b + 4 * lanes) : default;
            b += ldb;
            if ((i & 3) == 0 && Sse.IsSupported) Sse.Prefetch0(a + WeightPrefetch);
            V a0 = S.Broadcast(a[0]);
            c00 = S.MultiplyAdd(a0, b0, c00); c01 = S.MultiplyAdd(a0, b1, c01); c02 = S.MultiplyAdd(a0, b2, c02);
            if (four) c03 = S.MultiplyAdd(a0, b3, c03);
            if (five) c04 = S.MultiplyAdd(a0, b4, c04);
            V a1 = S.Broadcast(a[1]);
            c10 = S.MultiplyAdd(a1, b0, c10); c11 = S.MultiplyAdd(a1, b1, c11); c12 = S.MultiplyAdd(a1, b2, c12);
            if (four) c13 = S.MultiplyAdd(a1, b3, c13);
            if (five) c14 = S.MultiplyAdd(a1, b4, c14);
            V a2 = S.Broadcast(a[2]);
            c20 = S.MultiplyAdd(a2, b0, c20); c21 = S.MultiplyAdd(a2, b1, c21); c22 = S.MultiplyAdd(a2, b2, c22);
            if (four) c23 = S.MultiplyAdd(a2, b3, c23);
            if (five) c24 = S.MultiplyAdd(a2, b4, c24);
            V a3 = S.Broadcast(a[3]);
            c30 = S.MultiplyAdd(a3, b0, c30); c31 = S.MultiplyAdd(a3, b1, c31); c32 = S.MultiplyAdd(a3, b2, c32);
            if (four) c33 = S.MultiplyAdd(a3, b3, c33);
            if (five) c34 = S.MultiplyAdd(a3, b4, c34);
            a += RowBlock;
        }
        bool last = k1 == L.K(ref g);
        StoreRow<L, S, V>(ref g, row, col, width, last, c00, c01, c02, c03, c04);
        if (rows > 1) StoreRow<L, S, V>(ref g, row + 1, col, width, last, c10, c11, c12, c13, c14);
        if (rows > 2) StoreRow<L, S, V>(ref g, row + 2, col, width, last, c20, c21, c22, c23, c24);
        if (rows > 3) StoreRow<L, S, V>(ref g, row + 3, col, width, last, c30, c31, c32, c33, c34);
    }

    /// <summary>4 channels × one vector of pixels (<paramref name="width"/> of them valid), for what whole tiles leave.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector<L, S, V>(ref Args g, float* b, int ldb, int row, int col, int width, int k0, int k1)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        float* a = g.A + (long)row * L.K(ref g) + (long)k0 * RowBlock;
        int n = L.N(ref g);
        V c0 = default, c1 = default, c2 = default, c3 = default;
        int rows = Rows(L.M(ref g), row);
        if (k0 > 0)
        {
            float* c = g.C + (long)row * n + col;
            c0 = S.Load(c);
            if (rows > 1) c1 = S.Load(c + n);
            if (rows > 2) c2 = S.Load(c + 2 * n);
            if (rows > 3) c3 = S.Load(c + 3 * n);
        }
        for (int i = k0; i < k1; i++)
        {
            V b0 = S.Load(b);
            b += ldb;
            c0 = S.MultiplyAdd(S.Broadcast(a[0]), b0, c0);
            c1 = S.MultiplyAdd(S.Broadcast(a[1]), b0, c1);
            c2 = S.MultiplyAdd(S.Broadcast(a[2]), b0, c2);
            c3 = S.MultiplyAdd(S.Broadcast(a[3]), b0, c3);
            a += RowBlock;
        }
        bool last = k1 == L.K(ref g);
        StoreOne<L, S, V>(ref g, c0, row, col, width, last);
        if (rows > 1) StoreOne<L, S, V>(ref g, c1, row + 1, col, width, last);
        if (rows > 2) StoreOne<L, S, V>(ref g, c2, row + 2, col, width, last);
        if (rows > 3) StoreOne<L, S, V>(ref g, c3, row + 3, col, width, last);
    }

    /// <summary>
    /// 4 output channels × 49 pixels (a 7×7 map) on AVX-512: three vectors, and the 49th pixel as a 4-lane FMA
    /// of the 4 channels' weights (adjacent in the packed panel), 13 FMAs a step where four vectors took 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileAndAPixel<L>(ref Args g, float* b, int ldb, int row, int col, int k0, int k1) where L : struct, ILayer
    {
        const int Lanes = 16;
        float* a = g.A + (long)row * L.K(ref g) + (long)k0 * RowBlock;
        int n = L.N(ref g);
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        // Lane r < 4: channel row + r at the 49th pixel (lanes 4.. repeat them, unused). Full width on purpose: a
        // 128-bit FMA in this 512-bit loop made the kernel run at one of two speeds, chosen per process.
        Vector512<float> cp = default;
        int rows = Rows(L.M(ref g), row);
        if (k0 > 0)
        {
            float* c = g.C + (long)row * n + col;
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + Lanes); c02 = Vector512.Load(c + 2 * Lanes);
            if (rows > 1) { c10 = Vector512.Load(c + n); c11 = Vector512.Load(c + n + Lanes); c12 = Vector512.Load(c + n + 2 * Lanes); }
            if (rows > 2) { c20 = Vector512.Load(c + 2 * n); c21 = Vector512.Load(c + 2 * n + Lanes); c22 = Vector512.Load(c + 2 * n + 2 * Lanes); }
            if (rows > 3) { c30 = Vector512.Load(c + 3 * n); c31 = Vector512.Load(c + 3 * n + Lanes); c32 = Vector512.Load(c + 3 * n + 2 * Lanes); }
            int x = 3 * Lanes;
            cp = Vector512.Create(c[x], rows > 1 ? c[n + x] : 0f, rows > 2 ? c[2 * n + x] : 0f, rows > 3 ? c[3 * n + x] : 0f,
                0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
        }
        for (int i = k0; i < k1; i++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + Lanes);
            var b2 = Vector512.Load(b + 2 * Lanes);
            var bp = Vector512.Create(b[3 * Lanes]);
            b += ldb;
            if ((i & 3) == 0 && Sse.IsSupported) Sse.Prefetch0(a + WeightPrefetch);
            cp = Simd512.MultiplyAdd(Simd512.BroadcastFour(a), bp, cp);
            var a0 = Vector512.Create(a[0]);
            c00 = Simd512.MultiplyAdd(a0, b0, c00); c01 = Simd512.MultiplyAdd(a0, b1, c01); c02 = Simd512.MultiplyAdd(a0, b2, c02);
            var a1 = Vector512.Create(a[1]);
            c10 = Simd512.MultiplyAdd(a1, b0, c10); c11 = Simd512.MultiplyAdd(a1, b1, c11); c12 = Simd512.MultiplyAdd(a1, b2, c12);
            var a2 = Vector512.Create(a[2]);
            c20 = Simd512.MultiplyAdd(a2, b0, c20); c21 = Simd512.MultiplyAdd(a2, b1, c21); c22 = Simd512.MultiplyAdd(a2, b2, c22);
            var a3 = Vector512.Create(a[3]);
            c30 = Simd512.MultiplyAdd(a3, b0, c30); c31 = Simd512.MultiplyAdd(a3, b1, c31); c32 = Simd512.MultiplyAdd(a3, b2, c32);
            a += RowBlock;
        }
        bool last = k1 == L.K(ref g);
        const int Width = 3 * Lanes;
        StoreRow<L, Simd512, Vector512<float>>(ref g, row, col, Width, last, c00, c01, c02, default, default);
        if (rows > 1) StoreRow<L, Simd512, Vector512<float>>(ref g, row + 1, col, Width, last, c10, c11, c12, default, default);
        if (rows > 2) StoreRow<L, Simd512, Vector512<float>>(ref g, row + 2, col, Width, last, c20, c21, c22, default, default);
        if (rows > 3) StoreRow<L, Simd512, Vector512<float>>(ref g, row + 3, col, Width, last, c30, c31, c32, default, default);
        // Last: a call with the vector accumulators still live would make the JIT keep them in memory throughout.
        StorePixel<L>(ref g, cp.GetLower().GetLower(), row, rows, col + Width, last);
    }

    /// <summary>
    /// The most pixels <see cref="GemmRemainder.PixelsAcrossPanels"/> takes after the whole tiles (AVX2). Each costs one
    /// 128-bit FMA per input and panel, where a pass of single vectors costs four latency-bound 256-bit ones per panel
    /// whatever the count (measured on Zen 4, docs/performance.md).
    /// </summary>
    internal const int MaxPixelsAcrossPanels = 4;

    /// <summary>
    /// The pixels after the whole tiles (1 to <see cref="MaxPixelsAcrossPanels"/>) for panels [p0, p1), one depth slice:
    /// groups of panels walk their weight streams side by side, so that the group's pixels × panels FMA chains are
    /// independent and cover the FMA latency. The <paramref name="width"/> columns from <paramref name="col"/> are the
    /// pixels, or, <paramref name="tileFirst"/>, a whole tile and then the pixels: each group's panels then pass over the
    /// tile first, and the pixels read the group's weights of this slice from cache where they would stream them from
    /// memory a second time (the late stages' weights are megabytes).
    /// </summary>
    private static void PanelGroups<L, S, V>(ref Args g, float* b, int ldb, int p0, int p1, int col, int width, bool tileFirst, int k0, int k1)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        int tile = tileFirst ? S.TileVectors * S.Lanes : 0;
        switch (width - tile)
        {
            case 1: PanelGroups<L, S, V, OnePixel>(ref g, b, ldb, p0, p1, col, tile, k0, k1); break;
            case 2: PanelGroups<L, S, V, TwoPixels>(ref g, b, ldb, p0, p1, col, tile, k0, k1); break;
            case 3: PanelGroups<L, S, V, ThreePixels>(ref g, b, ldb, p0, p1, col, tile, k0, k1); break;
            default: PanelGroups<L, S, V, FourPixels>(ref g, b, ldb, p0, p1, col, tile, k0, k1); break;
        }
    }

    private static void PanelGroups<L, S, V, P>(ref Args g, float* b, int ldb, int p0, int p1, int col, int tile, int k0, int k1)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct where P : struct, IPixelGroup
    {
        int panels = (L.M(ref g) + RowBlock - 1) / RowBlock, group = P.Panels;
        if (panels < group)
        {
            // A layer of fewer panels than a group (M < 32 for one pixel): one panel at a time, as few chains as pixels.
            for (int p = p0; p < p1; p++)
            {
                if (tile > 0) Tile<L, S, V, FourVectors>(ref g, b, ldb, p * RowBlock, col, tile, k0, k1);
                PixelsOfPanels<L, OnePanelOf<P>>(ref g, b + tile, ldb, p * RowBlock, 0, 1, col + tile, k0, k1);
            }
            return;
        }
        for (int p = p0; p < p1; p += group)
        {
            // The last group of the range ends on its last panel, or on the layer's: it then starts before p (panels
            // another group or thread stores), computing them again unstored, so that every group is whole.
            int start = Math.Min(p, panels - group), end = Math.Min(p + group, p1);
            if (tile > 0)
            {
                for (int q = p; q < end; q++) Tile<L, S, V, FourVectors>(ref g, b, ldb, q * RowBlock, col, tile, k0, k1);
            }
            PixelsOfPanels<L, P>(ref g, b + tile, ldb, start * RowBlock, p - start, end - start, col + tile, k0, k1);
        }
    }

    /// <summary>
    /// <c>P.Panels</c> weight panels from <paramref name="row"/> × <c>P.Pixels</c> pixels from <paramref name="col"/>, one
    /// depth slice: per input, each panel's 4 weights (adjacent in the packed panel) as one 128-bit vector times each
    /// pixel's B broadcast, one FMA chain per panel and pixel whose lane r is channel r's sum. Panels q of the group with
    /// <paramref name="skip"/> ≤ q &lt; <paramref name="count"/> are stored; the others are computed and dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PixelsOfPanels<L, P>(ref Args g, float* b, int ldb, int row, int skip, int count, int col, int k0, int k1)
        where L : struct, ILayer where P : struct, IPixelGroup
    {
        int slots = P.Panels * P.Pixels;
        long step = (long)RowBlock * L.K(ref g);
        float* a = g.A + (long)row * L.K(ref g) + (long)k0 * RowBlock;
        Vector128<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector128<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        if (k0 > 0)
        {
            c0 = Resume<L, P>(ref g, 0, row, skip, count, col); c1 = Resume<L, P>(ref g, 1, row, skip, count, col);
            c2 = Resume<L, P>(ref g, 2, row, skip, count, col); c3 = Resume<L, P>(ref g, 3, row, skip, count, col);
            c4 = Resume<L, P>(ref g, 4, row, skip, count, col); c5 = Resume<L, P>(ref g, 5, row, skip, count, col);
            c6 = Resume<L, P>(ref g, 6, row, skip, count, col); c7 = Resume<L, P>(ref g, 7, row, skip, count, col);
            c8 = Resume<L, P>(ref g, 8, row, skip, count, col); c9 = Resume<L, P>(ref g, 9, row, skip, count, col);
            c10 = Resume<L, P>(ref g, 10, row, skip, count, col); c11 = Resume<L, P>(ref g, 11, row, skip, count, col);
        }
        // The weights stream from memory (megabytes in the late stages), each panel's once per pixel pass; the next
        // group's at this input are read once this group's slice is done: ask for them now.
        float* next = a + P.Panels * step;
        for (int i = k0; i < k1; i++)
        {
            var b0 = Vector128.Create(b[0]);
            var b1 = P.Pixels > 1 ? Vector128.Create(b[1]) : default;
            var b2 = P.Pixels > 2 ? Vector128.Create(b[2]) : default;
            var b3 = P.Pixels > 3 ? Vector128.Create(b[3]) : default;
            b += ldb;
            if ((i & 3) == 0 && Sse.IsSupported)
            {
                for (int q = 0; q < P.Panels; q++) Sse.Prefetch0(next + q * step);
                next += 4 * RowBlock;
            }
            c0 = PixelStep<P>(0, a, step, b0, b1, b2, b3, c0);
            if (slots > 1) c1 = PixelStep<P>(1, a, step, b0, b1, b2, b3, c1);
            if (slots > 2) c2 = PixelStep<P>(2, a, step, b0, b1, b2, b3, c2);
            if (slots > 3) c3 = PixelStep<P>(3, a, step, b0, b1, b2, b3, c3);
            if (slots > 4) c4 = PixelStep<P>(4, a, step, b0, b1, b2, b3, c4);
            if (slots > 5) c5 = PixelStep<P>(5, a, step, b0, b1, b2, b3, c5);
            if (slots > 6) c6 = PixelStep<P>(6, a, step, b0, b1, b2, b3, c6);
            if (slots > 7) c7 = PixelStep<P>(7, a, step, b0, b1, b2, b3, c7);
            if (slots > 8) c8 = PixelStep<P>(8, a, step, b0, b1, b2, b3, c8);
            if (slots > 9) c9 = PixelStep<P>(9, a, step, b0, b1, b2, b3, c9);
            if (slots > 10) c10 = PixelStep<P>(10, a, step, b0, b1, b2, b3, c10);
            if (slots > 11) c11 = PixelStep<P>(11, a, step, b0, b1, b2, b3, c11);
            a += RowBlock;
        }
        // Through memory: a call with the accumulators live would make the JIT keep them there throughout the loop.
        float* sums = stackalloc float[12 * 4];
        // Only the slots in use: an unused one stored here would be kept live (and spilled) throughout the loop.
        c0.Store(sums);
        if (slots > 1) c1.Store(sums + 4);
        if (slots > 2) c2.Store(sums + 8);
        if (slots > 3) c3.Store(sums + 12);
        if (slots > 4) c4.Store(sums + 16);
        if (slots > 5) c5.Store(sums + 20);
        if (slots > 6) c6.Store(sums + 24);
        if (slots > 7) c7.Store(sums + 28);
        if (slots > 8) c8.Store(sums + 32);
        if (slots > 9) c9.Store(sums + 36);
        if (slots > 10) c10.Store(sums + 40);
        if (slots > 11) c11.Store(sums + 44);
        bool last = k1 == L.K(ref g);
        int m = L.M(ref g);
        for (int s = 0; s < slots; s++)
        {
            int q = s / P.Pixels, r0 = row + q * RowBlock;
            if (q >= skip && q < count) StorePixel<L>(ref g, Vector128.Load(sums + 4 * s), r0, Rows(m, r0), col + s % P.Pixels, last);
        }
    }

    /// <summary>Slot <paramref name="s"/>'s FMA: panel <c>s / P.Pixels</c>'s 4 weights at this input times pixel <c>s % P.Pixels</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> PixelStep<P>(int s, float* a, long step, Vector128<float> b0, Vector128<float> b1,
        Vector128<float> b2, Vector128<float> b3, Vector128<float> c) where P : struct, IPixelGroup
    {
        var w = Vector128.Load(a + s / P.Pixels * step);
        var x = (s % P.Pixels) switch { 0 => b0, 1 => b1, 2 => b2, _ => b3 };
        return Fma.IsSupported ? Fma.MultiplyAdd(x, w, c) : Vector128.FusedMultiplyAdd(x, w, c);
    }

    /// <summary>Slot <paramref name="s"/>'s partial sums from an earlier depth slice (zero for a slot not stored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Resume<L, P>(ref Args g, int s, int row, int skip, int count, int col)
        where L : struct, ILayer where P : struct, IPixelGroup
    {
        int q = s / P.Pixels;
        if (s >= P.Panels * P.Pixels || q < skip || q >= count) return default;
        int r0 = row + q * RowBlock, rows = Rows(L.M(ref g), r0), n = L.N(ref g);
        float* c = g.C + (long)r0 * n + col + s % P.Pixels;
        return Vector128.Create(c[0], rows > 1 ? c[n] : 0f, rows > 2 ? c[2 * n] : 0f, rows > 3 ? c[3 * n] : 0f);
    }

    /// <summary>
    /// Pixels per <see cref="PixelsOfPanels{L, P}"/> pass and the panels it walks at once: 8 to 12 independent FMA
    /// chains (two FMA pipes × 4 cycles of latency on Zen 4), accumulators and broadcasts within AVX2's 16 registers.
    /// </summary>
    private interface IPixelGroup
    {
        static abstract int Pixels { get; }
        static abstract int Panels { get; }
    }

    private readonly struct OnePixel : IPixelGroup
    {
        public static int Pixels => 1;
        public static int Panels => 8;
    }

    private readonly struct TwoPixels : IPixelGroup
    {
        public static int Pixels => 2;
        public static int Panels => 4;
    }

    private readonly struct ThreePixels : IPixelGroup
    {
        public static int Pixels => 3;
        public static int Panels => 3;
    }

    private readonly struct FourPixels : IPixelGroup
    {
        public static int Pixels => 4;
        public static int Panels => 2;
    }

    /// <summary>One panel of <typeparamref name="P"/>'s pixels: layers with fewer panels than a group.</summary>
    private readonly struct OnePanelOf<P> : IPixelGroup where P : struct, IPixelGroup
    {
        public static int Pixels => P.Pixels;
        public static int Panels => 1;
    }

    /// <summary>The extra pixel of <see cref="TileAndAPixel"/>, with the same epilogue as a vector's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StorePixel<L>(ref Args g, Vector128<float> v, int row, int rows, int col, bool last) where L : struct, ILayer
    {
        int n = L.N(ref g);
        for (int r = 0; r < rows; r++)
        {
            long at = (long)(row + r) * n + col;
            float x = v.GetElement(r);
            if (last)
            {
                x += g.Bias[row + r];
                if (L.Residual(ref g)) x += g.Residual[at];
                if (L.Relu(ref g)) x = MathF.Max(x, 0f);
            }
            g.C[at] = x;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne<L, S, V>(ref Args g, V v, int row, int col, int width, bool last)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        if (last) Store<L, S, V>(ref g, v, row, col, width);
        else Spill<S, V>(v, g.C + (long)row * L.N(ref g) + col, width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<L, S, V>(ref Args g, int row, int col, int width, bool last, V v0, V v1, V v2, V v3, V v4)
        where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        int lanes = S.Lanes;
        if (!last)
        {
            // A partial sum, finished by the last depth slice; only this tile's columns are written,
            // since the lanes past the row belong to the next row's first tile.
            float* c = g.C + (long)row * L.N(ref g) + col;
            Spill<S, V>(v0, c, width);
            if (width > lanes) Spill<S, V>(v1, c + lanes, width - lanes);
            if (width > 2 * lanes) Spill<S, V>(v2, c + 2 * lanes, width - 2 * lanes);
            if (S.TileVectors == 4 && width > 3 * lanes) Spill<S, V>(v3, c + 3 * lanes, width - 3 * lanes);
            if (S.TileVectors == 4 && width > 4 * lanes) Spill<S, V>(v4, c + 4 * lanes, width - 4 * lanes);
            return;
        }
        Store<L, S, V>(ref g, v0, row, col, width);
        if (width > lanes) Store<L, S, V>(ref g, v1, row, col + lanes, width - lanes);
        if (width > 2 * lanes) Store<L, S, V>(ref g, v2, row, col + 2 * lanes, width - 2 * lanes);
        if (S.TileVectors == 4 && width > 3 * lanes) Store<L, S, V>(ref g, v3, row, col + 3 * lanes, width - 3 * lanes);
        if (S.TileVectors == 4 && width > 4 * lanes) Store<L, S, V>(ref g, v4, row, col + 4 * lanes, width - 4 * lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Spill<S, V>(V v, float* c, int width) where S : struct, ISimd<V> where V : struct
    {
        if (width >= S.Lanes) S.Store(v, c);
        else S.StorePartial(v, c, width);
    }

    /// <summary>
    /// The epilogue of one vector: folded-BatchNorm bias, residual, ReLU, then the store, of only
    /// <paramref name="width"/> columns when the vector runs past the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<L, S, V>(ref Args g, V v, int row, int col, int width) where L : struct, ILayer where S : struct, ISimd<V> where V : struct
    {
        long at = (long)row * L.N(ref g) + col;
        v = S.Add(v, S.Broadcast(g.Bias[row]));
        if (L.Residual(ref g)) v = S.Add(v, S.Load(g.Residual + at));
        if (L.Relu(ref g)) v = S.Relu(v);
        Spill<S, V>(v, g.C + at, width);
    }
}
