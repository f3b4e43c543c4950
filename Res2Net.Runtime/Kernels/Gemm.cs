using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
/// (stride 1 or 2) skip the gathered matrix where AVX-512 is available: <see cref="DirectConv"/> reads shifted planes.
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

    /// <summary>Below this many multiply-adds a layer runs on one thread: waking a worker would cost more.</summary>
    private const long ParallelThreshold = 1 << 18;

    // One per thread: the layers of a batch may run on several threads at once, each with its own B tiles.
    [ThreadStatic]
    private static float[]? t_packed;

    // The receptive-field matrix of a k×k, strided or summed conv, owned by the thread that runs the layer
    // (its workers only read it). It grows to the network's largest such layer on the first forward, then
    // is reused: long-row copies lay it out faster than gathering each tile, which small-M layers cannot amortize.
    [ThreadStatic]
    private static float[]? t_columns;

    private struct Args
    {
        public float* A, C, Bias, Residual;
        public float* Source, Tail;
        public int M, N, K, TailRow;
        public bool Relu;

        /// <summary>Gathering still to do, by each thread for its own pixels, when not null.</summary>
        public Gather.Job* Gather;
    }

    /// <summary>
    /// Runs one conv layer. <paramref name="second"/>, if not null, is added to <paramref name="source"/> element-wise
    /// (the hierarchical add); <paramref name="tail"/>, if not null, supplies input channels from
    /// <paramref name="tailChannel"/> on (a 1×1 conv over a concat of two buffers).
    /// </summary>
    public static void Conv(float* weights, float* bias, float* source, float* second, float* tail, int tailChannel,
        float* destination, float* residual, bool relu, int outChannels, int inChannels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        if (tail == null && residual == null && DirectConv.Handles(kernel, stride, padding, height, width, outHeight, outWidth, second != null))
        {
            DirectConv.Conv(weights, bias, source, second, destination, relu, outChannels, inChannels, height, width, kernel, stride, outHeight, outWidth);
            LayerClock.Mark();
            return;
        }
        var args = new Args
        {
            A = weights, Bias = bias, C = destination, Residual = residual, Relu = relu,
            Source = source, Tail = tail, TailRow = tail == null ? int.MaxValue : tailChannel,
            M = outChannels, N = outHeight * outWidth, K = inChannels * kernel * kernel,
        };
        bool direct = kernel == 1 && stride == 1 && padding == 0 && second == null;
        int parts = (long)args.M * args.N * args.K >= ParallelThreshold ? Workers.MaxThreads : 1;
        Gather.Job job = default;
        if (!direct)
        {
            if (tail != null) throw new ArgumentException("a concat tail needs a 1×1 stride-1 conv", nameof(tail));
            long floats = (long)args.K * args.N + ReadSlack;
            args.Source = AlignedBuffer.Grow(ref t_columns, floats);
            job = Gather.Describe(source, second, inChannels, height, width, kernel, stride, padding, outHeight, outWidth, args.Source);
            if (SplitsColumns(args.M, args.N, Math.Min(parts, Workers.MaxThreads)))
            {
                args.Gather = &job; // each thread gathers the pixels it will multiply
            }
            else
            {
                Gather.Im2Col(source, second, inChannels, height, width, kernel, stride, padding, outHeight, outWidth, args.Source);
            }
        }
        Workers.Run(parts, &Part, &args);
        LayerClock.Mark();
    }

    /// <summary>
    /// One thread's share: a range of pixel columns when there are enough to go round (each thread then
    /// streams all weights over its own pixels), else a range of weight panels over all pixels (layer4's 7×7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Part(void* state, int part, int parts)
    {
        ref Args g = ref Unsafe.AsRef<Args>(state);
        float* packed = AlignedBuffer.Grow(ref t_packed, DepthBlock * MaxTile);
        int panels = (g.M + RowBlock - 1) / RowBlock;
        if (Vector512.IsHardwareAccelerated) Split<Simd512, Vector512<float>>(ref g, packed, panels, part, parts);
        else Split<Simd256, Vector256<float>>(ref g, packed, panels, part, parts);
    }

    /// <summary>Whether the threads share a layer by pixel columns (else by weight panels); <see cref="Split"/> decides alike.</summary>
    private static bool SplitsColumns(int m, int n, int parts)
    {
        int tile = Vector512.IsHardwareAccelerated ? Simd512.TileVectors * Simd512.Lanes : Simd256.TileVectors * Simd256.Lanes;
        return parts <= 1 || n / tile >= 2 * parts || (m + RowBlock - 1) / RowBlock < parts;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Split<S, V>(ref Args g, float* packed, int panels, int part, int parts) where S : struct, ISimd<V> where V : struct
    {
        int tile = S.TileVectors * S.Lanes;
        int tiles = g.N / tile;
        if (parts <= 1 || tiles >= 2 * parts || panels < parts)
        {
            int t0 = tiles * part / parts, t1 = tiles * (part + 1) / parts;
            int j0 = t0 * tile, j1 = part == parts - 1 ? g.N : t1 * tile;
            if (g.Gather != null && j0 < j1) Gather.Range(ref *g.Gather, 0, g.Gather->Channels, j0, j1);
            Rect<S, V>(ref g, packed, 0, panels, j0, j1);
        }
        else
        {
            Rect<S, V>(ref g, packed, panels * part / parts, panels * (part + 1) / parts, 0, g.N);
        }
    }

    /// <summary>
    /// Panels [p0, p1) × columns [j0, j1): for each tile of pixels and each depth slice, B is packed once and
    /// every panel passes over it. What whole tiles leave joins the last one as a fifth vector, runs as three
    /// vectors and a pixel (a 7×7 map's 49, <see cref="TileAndAPixel"/>), as one narrower tile when it is nearly
    /// whole (one pass over the weights beats several), or as single vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rect<S, V>(ref Args g, float* packed, int p0, int p1, int j0, int j1) where S : struct, ISimd<V> where V : struct
    {
        int tile = S.TileVectors * S.Lanes;
        // Packing costs a copy of each B tile; it pays off once enough panels reuse it (layer1's 3×3 convs have
        // 14 output channels, 4 panels: there B is read in place). A concat tail must be packed to be joined.
        bool pack = p1 - p0 >= PackPanels || g.Tail != null;
        for (int j = j0; j < j1; j += tile)
        {
            int width = Math.Min(tile, j1 - j);
            bool wide = width > (S.TileVectors - 1) * S.Lanes;
            // At most one vector past the last whole tile (a 14×14 map is 3 tiles and 4 pixels; 28×28 is 12 and 16)
            // joins that tile as a fifth vector column, instead of a pass of single vectors over all the weights.
            bool five = S.TileVectors == 4 && j1 - j > tile && j1 - j <= tile + S.Lanes;
            if (five) width = j1 - j;
            int stride = five ? tile + S.Lanes : tile;
            bool pixel = S.TileVectors == 4 && width == 3 * S.Lanes + 1 && Avx512F.IsSupported;
            for (int k0 = 0; k0 < g.K; k0 += DepthBlock)
            {
                int k1 = Math.Min(g.K, k0 + DepthBlock);
                float* b = g.Source + (long)k0 * g.N + j;
                int ldb = g.N;
                if (pack)
                {
                    Pack(ref g, packed, stride, k0, k1, j, width);
                    b = packed;
                    ldb = stride;
                }
                for (int p = p0; p < p1; p++)
                {
                    if (five)
                    {
                        Tile<S, V, FiveVectors>(ref g, b, ldb, p * RowBlock, j, width, k0, k1);
                        continue;
                    }
                    if (pixel)
                    {
                        TileAndAPixel(ref g, b, ldb, p * RowBlock, j, k0, k1);
                        continue;
                    }
                    if (wide)
                    {
                        Tile<S, V, FourVectors>(ref g, b, ldb, p * RowBlock, j, width, k0, k1);
                        continue;
                    }
                    for (int v = 0; v < width; v += S.Lanes)
                    {
                        Vector<S, V>(ref g, b + v, ldb, p * RowBlock, j + v, Math.Min(S.Lanes, width - v), k0, k1);
                    }
                }
            }
            if (five) break;
        }
    }

    /// <summary>
    /// Copies rows [k0, k1) × columns [col, col + width) of B into <paramref name="packed"/> (row length
    /// <paramref name="stride"/>, unused lanes zero so they never hold a NaN or a denormal): the micro-kernel
    /// then reads B at unit stride from L1, whatever the row length of the activations (no TLB miss per row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack(ref Args g, float* packed, int stride, int k0, int k1, int col, int width)
    {
        for (int k = k0; k < k1; k++)
        {
            float* dst = packed + (long)(k - k0) * stride;
            float* src = k < g.TailRow ? g.Source + (long)k * g.N : g.Tail + (long)(k - g.TailRow) * g.N;
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
    private static void Tile<S, V, W>(ref Args g, float* b, int ldb, int row, int col, int width, int k0, int k1)
        where S : struct, ISimd<V> where V : struct where W : struct, ITileColumns
    {
        float* a = g.A + (long)row * g.K + (long)k0 * RowBlock;
        int n = g.N, lanes = S.Lanes;
        bool four = S.TileVectors == 4;
        bool five = four && W.Fifth;
        V c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        V c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        V c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        V c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        int rows = Math.Min(RowBlock, g.M - row);
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
        bool last = k1 == g.K;
        StoreRow<S, V>(ref g, row, col, width, last, c00, c01, c02, c03, c04);
        if (rows > 1) StoreRow<S, V>(ref g, row + 1, col, width, last, c10, c11, c12, c13, c14);
        if (rows > 2) StoreRow<S, V>(ref g, row + 2, col, width, last, c20, c21, c22, c23, c24);
        if (rows > 3) StoreRow<S, V>(ref g, row + 3, col, width, last, c30, c31, c32, c33, c34);
    }

    /// <summary>4 channels × one vector of pixels (<paramref name="width"/> of them valid), for what whole tiles leave.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector<S, V>(ref Args g, float* b, int ldb, int row, int col, int width, int k0, int k1)
        where S : struct, ISimd<V> where V : struct
    {
        float* a = g.A + (long)row * g.K + (long)k0 * RowBlock;
        int n = g.N;
        V c0 = default, c1 = default, c2 = default, c3 = default;
        int rows = Math.Min(RowBlock, g.M - row);
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
        bool last = k1 == g.K;
        StoreOne<S, V>(ref g, c0, row, col, width, last);
        if (rows > 1) StoreOne<S, V>(ref g, c1, row + 1, col, width, last);
        if (rows > 2) StoreOne<S, V>(ref g, c2, row + 2, col, width, last);
        if (rows > 3) StoreOne<S, V>(ref g, c3, row + 3, col, width, last);
    }

    /// <summary>
    /// 4 output channels × 49 pixels (a 7×7 map) on AVX-512: three vectors, and the 49th pixel as a 4-lane FMA
    /// of the 4 channels' weights (adjacent in the packed panel), 13 FMAs a step where four vectors took 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileAndAPixel(ref Args g, float* b, int ldb, int row, int col, int k0, int k1)
    {
        const int Lanes = 16;
        float* a = g.A + (long)row * g.K + (long)k0 * RowBlock;
        int n = g.N;
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        // Lane r < 4: channel row + r at the 49th pixel (lanes 4.. repeat them, unused). Full width on purpose: a
        // 128-bit FMA in this 512-bit loop made the kernel run at one of two speeds, chosen per process.
        Vector512<float> cp = default;
        int rows = Math.Min(RowBlock, g.M - row);
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
            if ((i & 3) == 0) Sse.Prefetch0(a + WeightPrefetch);
            cp = Avx512F.FusedMultiplyAdd(Avx512F.BroadcastVector128ToVector512(a), bp, cp);
            var a0 = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01); c02 = Avx512F.FusedMultiplyAdd(a0, b2, c02);
            var a1 = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(a1, b0, c10); c11 = Avx512F.FusedMultiplyAdd(a1, b1, c11); c12 = Avx512F.FusedMultiplyAdd(a1, b2, c12);
            var a2 = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(a2, b0, c20); c21 = Avx512F.FusedMultiplyAdd(a2, b1, c21); c22 = Avx512F.FusedMultiplyAdd(a2, b2, c22);
            var a3 = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(a3, b0, c30); c31 = Avx512F.FusedMultiplyAdd(a3, b1, c31); c32 = Avx512F.FusedMultiplyAdd(a3, b2, c32);
            a += RowBlock;
        }
        bool last = k1 == g.K;
        const int Width = 3 * Lanes;
        StoreRow<Simd512, Vector512<float>>(ref g, row, col, Width, last, c00, c01, c02, default, default);
        if (rows > 1) StoreRow<Simd512, Vector512<float>>(ref g, row + 1, col, Width, last, c10, c11, c12, default, default);
        if (rows > 2) StoreRow<Simd512, Vector512<float>>(ref g, row + 2, col, Width, last, c20, c21, c22, default, default);
        if (rows > 3) StoreRow<Simd512, Vector512<float>>(ref g, row + 3, col, Width, last, c30, c31, c32, default, default);
        // Last: a call with the vector accumulators still live would make the JIT keep them in memory throughout.
        StorePixel(ref g, cp.GetLower().GetLower(), row, rows, col + Width, last);
    }

    /// <summary>The extra pixel of <see cref="TileAndAPixel"/>, with the same epilogue as a vector's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StorePixel(ref Args g, Vector128<float> v, int row, int rows, int col, bool last)
    {
        for (int r = 0; r < rows; r++)
        {
            long at = (long)(row + r) * g.N + col;
            float x = v.GetElement(r);
            if (last)
            {
                x += g.Bias[row + r];
                if (g.Residual != null) x += g.Residual[at];
                if (g.Relu) x = MathF.Max(x, 0f);
            }
            g.C[at] = x;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne<S, V>(ref Args g, V v, int row, int col, int width, bool last) where S : struct, ISimd<V> where V : struct
    {
        if (last) Store<S, V>(ref g, v, row, col, width);
        else Spill<S, V>(v, g.C + (long)row * g.N + col, width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<S, V>(ref Args g, int row, int col, int width, bool last, V v0, V v1, V v2, V v3, V v4)
        where S : struct, ISimd<V> where V : struct
    {
        int lanes = S.Lanes;
        if (!last)
        {
            // A partial sum, finished by the last depth slice; only this tile's columns are written,
            // since the lanes past the row belong to the next row's first tile.
            float* c = g.C + (long)row * g.N + col;
            Spill<S, V>(v0, c, width);
            if (width > lanes) Spill<S, V>(v1, c + lanes, width - lanes);
            if (width > 2 * lanes) Spill<S, V>(v2, c + 2 * lanes, width - 2 * lanes);
            if (S.TileVectors == 4 && width > 3 * lanes) Spill<S, V>(v3, c + 3 * lanes, width - 3 * lanes);
            if (S.TileVectors == 4 && width > 4 * lanes) Spill<S, V>(v4, c + 4 * lanes, width - 4 * lanes);
            return;
        }
        Store<S, V>(ref g, v0, row, col, width);
        if (width > lanes) Store<S, V>(ref g, v1, row, col + lanes, width - lanes);
        if (width > 2 * lanes) Store<S, V>(ref g, v2, row, col + 2 * lanes, width - 2 * lanes);
        if (S.TileVectors == 4 && width > 3 * lanes) Store<S, V>(ref g, v3, row, col + 3 * lanes, width - 3 * lanes);
        if (S.TileVectors == 4 && width > 4 * lanes) Store<S, V>(ref g, v4, row, col + 4 * lanes, width - 4 * lanes);
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
    private static void Store<S, V>(ref Args g, V v, int row, int col, int width) where S : struct, ISimd<V> where V : struct
    {
        long at = (long)row * g.N + col;
        v = S.Add(v, S.Broadcast(g.Bias[row]));
        if (g.Residual != null) v = S.Add(v, S.Load(g.Residual + at));
        if (g.Relu) v = S.Relu(v);
        Spill<S, V>(v, g.C + at, width);
    }
}
