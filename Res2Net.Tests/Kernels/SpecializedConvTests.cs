using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Res2Net.Runtime.Kernels;
using Res2Net.Runtime.Kernels.Layers;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Kernels;

/// <summary>
/// The specialized conv kernels (<see cref="ConvKernels"/>), one copy per layer type with its shape and schedule as
/// constants, against the fallback <see cref="Gemm.Conv"/> on the same operands (the same bits: every schedule sums each
/// output's products in the same order, see <see cref="Gemm"/>) and against <see cref="ScalarConv"/> within
/// <see cref="ConvBound"/>. The layers are <see cref="TestLayer{TIn, THeight, TWidth, TOut, TKernel, TStride, TPadding, TOutHeight, TOutWidth, TTail, TFlags, TTiles, TFive, TTailStride, TTailHeight, TTailWidth}"/>
/// types made from each case's numbers: named cases for each algorithm, fusion and remainder, schedules the fallback
/// never picks, and layers drawn at random with a random valid schedule. Layers that split run on 1 and 2 threads.
/// Inputs end in poisoned slack and destinations start poisoned (<see cref="Slack"/>), so a lane read past a buffer or
/// a store past it shows. The AVX-512 kernels run in software where the machine lacks AVX-512 (or the run disabled it,
/// as test.sh's second pass does), through their internal entry points; the public ones must then refuse
/// (<see cref="Avx512EntryPointsRefuseWithoutAvx512"/>). Wrong schedules must throw before writing anything.
/// </summary>
[Collection(ProcessEnvironment.Name)] // sets Workers.MaxThreads, which is process-wide
public unsafe class SpecializedConvTests(ITestOutputHelper output)
{
    public enum Kernel
    {
        DirectAvx512,
        DirectAvx2,
        GemmAvx512,
        GemmAvx2,
    }

    private sealed record Case(Kernel Kernel, ConvShape Shape, Schedule Schedule, int[] Threads);

    private static readonly Dictionary<string, Case> s_cases = Cases_();

    private static Dictionary<string, Case> Cases_()
    {
        var cases = new Dictionary<string, Case>();
        int[] both = [1, 2];
        void Direct(string name, ConvShape shape, Schedule schedule, params int[] threads) =>
            cases.Add($"direct {name}", new(Kernel.DirectAvx512, shape, schedule, threads.Length == 0 ? both : threads));
        void Direct256(string name, ConvShape shape, Schedule schedule, params int[] threads) =>
            cases.Add($"direct256 {name}", new(Kernel.DirectAvx2, shape, schedule, threads.Length == 0 ? both : threads));
        // The same layer on both GEMM kernels: the remainder differs with the tile (64 pixels on AVX-512, 24 on AVX2).
        void Gemm(string name, ConvShape shape, Schedule schedule, GemmRemainder avx512, GemmRemainder avx2, params int[] threads)
        {
            cases.Add($"gemm512 {name}", new(Kernel.GemmAvx512, shape, schedule with { Remainder = avx512 }, threads.Length == 0 ? both : threads));
            cases.Add($"gemm256 {name}", new(Kernel.GemmAvx2, shape, schedule with { Remainder = avx2 }, threads.Length == 0 ? both : threads));
        }

        // DirectConv: 3×3 "same" at stride 1 (summed or not) and 2, the 7×7 stem. Plane-row pixels n = rows × (width + 2)
        // less the last row's border at stride 1; tiles of 64, the first FiveVectorTiles of 80.
        var sum14 = new ConvShape(16, 14, 14, 20, 3, 1, 1, Summed: true, Relu: true); // n = 222: 14 vectors
        Direct("3x3 s1 summed 14x14, tiles 5+5+4, weight panels", sum14, new(ThreadSplit.WeightPanels, Tiles: 3, FiveVectorTiles: 2));
        Direct("3x3 s1 summed 14x14, tiles 4+4+4+4, pixel tiles", sum14, new(ThreadSplit.PixelTiles, Tiles: 4));
        Direct("3x3 s1 13x11, tiles 4+4+4", new(8, 13, 11, 12, 3, 1, 1, Relu: true), new(ThreadSplit.PixelTiles, Tiles: 3));
        Direct("3x3 s1 13x11, tiles 5+4+4", new(8, 13, 11, 12, 3, 1, 1, Relu: true), new(ThreadSplit.PixelTiles, Tiles: 3, FiveVectorTiles: 1));
        Direct("3x3 s2 28x28, tiles 5+5+4", new(7, 28, 28, 10, 3, 2, 1), new(ThreadSplit.PixelTiles, Tiles: 3, FiveVectorTiles: 2));
        Direct("3x3 s2 13x13, panels", new(16, 13, 13, 64, 3, 2, 1, Relu: true), new(ThreadSplit.WeightPanels, Tiles: 1));
        Direct("7x7 s2 stem 45x37", new(3, 45, 37, 16, 7, 2, 3, Relu: true), new(ThreadSplit.PixelTiles, Tiles: 8));
        Direct("3x3 s1 summed 7x7, panels", new(16, 7, 7, 40, 3, 1, 1, Summed: true), new(ThreadSplit.WeightPanels, Tiles: 1));
        Direct("3x3 s1 summed 5x3, single", new(6, 5, 3, 10, 3, 1, 1, Summed: true, Relu: true), new(ThreadSplit.Single, Tiles: 1), 2);
        Direct("3x3 s1 summed 56x56, pixel tiles", new(4, 56, 56, 6, 3, 1, 1, Summed: true, Relu: true), new(ThreadSplit.PixelTiles, Tiles: 50, FiveVectorTiles: 3));

        // The same layers on AVX2's tiles: 3 vectors of 8, 24 plane-row pixels, the last tile starting below n.
        Direct256("3x3 s1 summed 14x14, weight panels", sum14, new(ThreadSplit.WeightPanels, Tiles: 10)); // n = 222
        Direct256("3x3 s1 summed 14x14, pixel tiles", sum14, new(ThreadSplit.PixelTiles, Tiles: 10));
        Direct256("3x3 s1 13x11", new(8, 13, 11, 12, 3, 1, 1, Relu: true), new(ThreadSplit.PixelTiles, Tiles: 7)); // n = 167
        Direct256("3x3 s2 28x28", new(7, 28, 28, 10, 3, 2, 1), new(ThreadSplit.PixelTiles, Tiles: 9)); // n = 209
        Direct256("3x3 s2 13x13, panels", new(16, 13, 13, 64, 3, 2, 1, Relu: true), new(ThreadSplit.WeightPanels, Tiles: 3)); // n = 55
        Direct256("7x7 s2 stem 45x37", new(3, 45, 37, 16, 7, 2, 3, Relu: true), new(ThreadSplit.PixelTiles, Tiles: 21)); // n = 503
        Direct256("3x3 s1 summed 7x7, panels", new(16, 7, 7, 40, 3, 1, 1, Summed: true), new(ThreadSplit.WeightPanels, Tiles: 3)); // n = 61
        Direct256("3x3 s1 summed 5x3, single", new(6, 5, 3, 10, 3, 1, 1, Summed: true, Relu: true), new(ThreadSplit.Single, Tiles: 1), 2); // n = 23
        Direct256("3x3 s1 summed 56x56, pixel tiles", new(4, 56, 56, 6, 3, 1, 1, Summed: true, Relu: true), new(ThreadSplit.PixelTiles, Tiles: 136)); // n = 3246

        // GEMM: B in place (with a concat tail, packed), gathered before the threads or by each thread; every remainder.
        Gemm("1x1 tail + residual 9x7, panels", new(136, 9, 7, 40, 1, 1, 0, TailChannel: 71, Residual: true, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.InPlace, PackB: true), GemmRemainder.NarrowTile, GemmRemainder.Vectors);
        Gemm("1x1 tail 16x17, pixel tiles", new(32, 16, 17, 32, 1, 1, 0, TailChannel: 13, Relu: true),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.FifthVector, GemmRemainder.Vectors);
        Gemm("1x1 14x14 residual, fifth vector", new(32, 14, 14, 24, 1, 1, 0, Residual: true, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.InPlace), GemmRemainder.FifthVector, GemmRemainder.PixelsAcrossPanels);
        Gemm("1x1 28x28, fifth vector, packed", new(20, 28, 28, 12, 1, 1, 0, Relu: true),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.FifthVector, GemmRemainder.Vectors);
        Gemm("1x1 7x7 tail + residual, three vectors and a pixel", new(64, 7, 7, 36, 1, 1, 0, TailChannel: 50, Residual: true, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.InPlace, PackB: true), GemmRemainder.ThreeVectorsAndAPixel, GemmRemainder.PixelsAcrossPanels);
        Gemm("3x3 s1 summed 7x7 gathered, three vectors and a pixel", new(16, 7, 7, 48, 3, 1, 1, Summed: true, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.Gathered, PackB: true), GemmRemainder.ThreeVectorsAndAPixel, GemmRemainder.PixelsAcrossPanels);
        Gemm("1x1 s2 gathered shortcut 13x15", new(12, 13, 15, 20, 1, 2, 0),
            new(ThreadSplit.PixelTiles, GemmInput.Gathered), GemmRemainder.NarrowTile, GemmRemainder.Vectors);
        Gemm("1x1 s2 gathered per thread 21x37", new(8, 21, 37, 24, 1, 2, 0, Relu: true),
            new(ThreadSplit.PixelTiles, GemmInput.GatheredPerThread, PackB: true), GemmRemainder.Vectors, GemmRemainder.NarrowTile);
        Gemm("3x3 s2 summed 9x11, single", new(3, 9, 11, 5, 3, 2, 1, Summed: true, Relu: true),
            new(ThreadSplit.Single, GemmInput.GatheredPerThread), GemmRemainder.Vectors, GemmRemainder.Vectors, 2);
        Gemm("3x3 s1 summed 16x17, gathered per thread", new(26, 16, 17, 26, 3, 1, 1, Summed: true, Relu: true),
            new(ThreadSplit.PixelTiles, GemmInput.GatheredPerThread), GemmRemainder.FifthVector, GemmRemainder.Vectors);
        Gemm("3x3 s2 residual 14x14 gathered, K 144 packed", new(16, 14, 14, 36, 3, 2, 1, Residual: true, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.Gathered, PackB: true), GemmRemainder.ThreeVectorsAndAPixel, GemmRemainder.PixelsAcrossPanels);
        Gemm("7x7 s2 stem 29x31 residual", new(3, 29, 31, 8, 7, 2, 3, Residual: true, Relu: true),
            new(ThreadSplit.PixelTiles, GemmInput.Gathered), GemmRemainder.Vectors, GemmRemainder.None);
        Gemm("3x3 s1 residual 11x13", new(20, 11, 13, 12, 3, 1, 1, Residual: true),
            new(ThreadSplit.PixelTiles, GemmInput.GatheredPerThread), GemmRemainder.FifthVector, GemmRemainder.NarrowTile);
        Gemm("5x5 9x10, single", new(4, 9, 10, 6, 5, 1, 2),
            new(ThreadSplit.Single, GemmInput.Gathered), GemmRemainder.Vectors, GemmRemainder.NarrowTile, 2);
        Gemm("1x1 3x4 small, single", new(5, 3, 4, 3, 1, 1, 0, Relu: true),
            new(ThreadSplit.Single, GemmInput.InPlace), GemmRemainder.Vectors, GemmRemainder.Vectors, 2);
        // K = 300: three depth slices, partial sums stored and resumed; 64 pixels, one whole tile on AVX-512.
        Gemm("1x1 8x8, K 300", new(300, 8, 8, 10, 1, 1, 0, Relu: true),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.None, GemmRemainder.NarrowTile);
        // conv3 with a stage block's shortcut conv folded in: the tail is the block's input, read at stride 2 from maps of odd
        // and even sizes (layer2–4's 56→28, 28→14, 14→7 have K over a depth slice and both thread splits), and at stride 1.
        Gemm("1x1 shortcut tail s2 of 15x14, K 300, pixel tiles", new(300, 8, 7, 20, 1, 1, 0, TailChannel: 130, Relu: true, TailStride: 2, TailHeight: 15, TailWidth: 14),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.NarrowTile, GemmRemainder.Vectors);
        Gemm("1x1 shortcut tail s2 of 14x14 to 7x7, panels", new(72, 7, 7, 40, 1, 1, 0, TailChannel: 40, Relu: true, TailStride: 2, TailHeight: 14, TailWidth: 14),
            new(ThreadSplit.WeightPanels, GemmInput.InPlace, PackB: true), GemmRemainder.ThreeVectorsAndAPixel, GemmRemainder.Vectors);
        Gemm("1x1 shortcut tail s2 of 29x31, 3 channels", new(9, 15, 16, 13, 1, 1, 0, TailChannel: 6, Relu: true, TailStride: 2, TailHeight: 29, TailWidth: 31),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.Vectors, GemmRemainder.None);
        Gemm("1x1 shortcut tail s1 17x9 (layer1)", new(40, 17, 9, 32, 1, 1, 0, TailChannel: 28, Relu: true, TailStride: 1),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.Vectors, GemmRemainder.Vectors);
        // What the fallback never picks: single vectors instead of the fifth, a narrow tile instead of the pixel, no packing over 12 panels.
        Gemm("1x1 14x14 single vectors, not the fifth", new(32, 14, 14, 24, 1, 1, 0, Residual: true),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace), GemmRemainder.Vectors, GemmRemainder.NarrowTile);
        Gemm("1x1 7x7 narrow tile, not the pixel", new(24, 7, 7, 48, 1, 1, 0, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.InPlace), GemmRemainder.NarrowTile, GemmRemainder.NarrowTile);
        Gemm("1x1 7x7 single vectors, not the pixels across panels", new(24, 7, 7, 48, 1, 1, 0, Residual: true),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.Vectors, GemmRemainder.Vectors);
        // 41 panels (the last of one channel) on 2 threads: 20 and 21 panels, groups of 8 (1 pixel), 4 (2), 3 (3) and 2 (4)
        // that end on a thread's last panel by starting before its first.
        Gemm("1x1 1x49 41 panels, pixels across panels", new(40, 1, 49, 161, 1, 1, 0, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.InPlace, PackB: true), GemmRemainder.Vectors, GemmRemainder.PixelsAcrossPanels);
        Gemm("1x1 1x50 41 panels, pixels across panels", new(40, 1, 50, 161, 1, 1, 0, Residual: true),
            new(ThreadSplit.WeightPanels, GemmInput.InPlace), GemmRemainder.Vectors, GemmRemainder.PixelsAcrossPanels);
        Gemm("1x1 1x51 41 panels, pixels across panels", new(140, 1, 51, 161, 1, 1, 0, Relu: true),
            new(ThreadSplit.PixelTiles, GemmInput.InPlace, PackB: true), GemmRemainder.Vectors, GemmRemainder.PixelsAcrossPanels);
        Gemm("3x3 s1 summed 14x14 gathered, 41 panels, pixels across panels", new(16, 14, 14, 161, 3, 1, 1, Summed: true, Residual: true, Relu: true),
            new(ThreadSplit.WeightPanels, GemmInput.Gathered, PackB: true), GemmRemainder.FifthVector, GemmRemainder.PixelsAcrossPanels);
        return cases;
    }

    public static TheoryData<string> Cases => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void SpecializedEqualsFallbackBitForBit(string name)
    {
        var c = s_cases[name];
        foreach (int threads in c.Threads) Check(name, c.Kernel, c.Shape, c.Schedule, threads, Seed(name));
    }

    /// <summary>
    /// Layers drawn at random (shapes from 1×1 maps to 30×30, 1 to 24 channels, every fusion, tails at stride 1 and 2) with a schedule drawn from
    /// those the kernel must run exactly, on 1 or 2 threads.
    /// </summary>
    [Theory]
    [InlineData(Kernel.DirectAvx512)]
    [InlineData(Kernel.DirectAvx2)]
    [InlineData(Kernel.GemmAvx512)]
    [InlineData(Kernel.GemmAvx2)]
    public void RandomLayersEqualFallbackBitForBit(Kernel kernel)
    {
        var random = new Random(20261201 + (int)kernel);
        for (int i = 0; i < 10; i++)
        {
            var (shape, schedule) = kernel is Kernel.DirectAvx512 or Kernel.DirectAvx2 ? RandomDirect(random, kernel) : RandomGemm(random, kernel);
            Check($"random {kernel} {i}", kernel, shape, schedule, random.Next(1, 3), random.Next());
        }
    }

    public static TheoryData<int> Avx2Remainders => new(Enumerable.Range(0, 24));

    /// <summary>
    /// Every remainder AVX2's tiles of 24 can leave (<paramref name="rest"/>), after 0, 1 and 2 whole tiles, with the
    /// schedule the generator and the fallback choose (<see cref="GemmRemainder.PixelsAcrossPanels"/> for 1 to 4): the
    /// AVX2 kernel, the AVX-512 kernel (its own remainder; in software where the machine lacks it) and the fallback give
    /// the same bits, and those are the exact chain each output is specified to be (<see cref="ExactChain"/>). Channels
    /// 4, 8, 13, 36 and 61 (1, 2, 4, 9 and 16 panels: fewer than a group, whole groups and a last group that starts
    /// early, a last panel of 1 channel), depths 1, 5, 130 and 300 (1 to 3 depth slices), fusions, B in place packed or
    /// not, or gathered (a summed input), and both splits on 1 and 2 threads take turns.
    /// </summary>
    [Theory]
    [MemberData(nameof(Avx2Remainders))]
    public void EveryAvx2RemainderIsTheExactChainOnBothWidths(int rest)
    {
        int[] outs = [4, 8, 13, 36, 61], depths = [1, 5, 130, 300];
        for (int tiles = 0; tiles < 3; tiles++)
        {
            int pixels = 24 * tiles + rest, i = 3 * rest + tiles;
            if (pixels == 0) continue;
            bool gathered = i % 3 == 2;
            var shape = new ConvShape(depths[i / 5 % 4], 1, pixels, outs[i % 5], 1, 1, 0, Summed: gathered, Residual: i % 2 == 0, Relu: i / 2 % 2 == 0);
            var split = i / 2 % 2 == 0 ? ThreadSplit.PixelTiles : ThreadSplit.WeightPanels;
            var input = !gathered ? GemmInput.InPlace : split == ThreadSplit.PixelTiles && i % 4 == 0 ? GemmInput.GatheredPerThread : GemmInput.Gathered;
            var avx2 = Gemm.FallbackSchedule(shape.Out, pixels, shape.Depth, !gathered, tail: false, threads: 2, avx512: false).Remainder;
            var avx512 = Gemm.FallbackSchedule(shape.Out, pixels, shape.Depth, !gathered, tail: false, threads: 2, avx512: true).Remainder;
            Assert.Equal(rest is >= 1 and <= Gemm.MaxPixelsAcrossPanels, avx2 == GemmRemainder.PixelsAcrossPanels);
            var schedule = new Schedule(split, input, PackB: i / 3 % 2 == 0);
            foreach (int threads in new[] { 1, 2 })
            {
                string what = $"{pixels} pixels [{shape}; {schedule}; AVX2 {avx2}, AVX-512 {avx512}; {threads} thread(s)]";
                int before = Workers.MaxThreads;
                try
                {
                    Workers.MaxThreads = threads;
                    var narrow = RunOnce(what, Kernel.GemmAvx2, shape, schedule with { Remainder = avx2 }, Seed(what), out var data);
                    var wide = Run(Kernel.GemmAvx512, TestLayers.TypeOf(shape, schedule with { Remainder = avx512 }), shape, data, what);
                    var fallback = RunFallback(shape, data, what);
                    var exact = ExactChain(shape, data);
                    for (int at = 0; at < exact.Length; at++)
                    {
                        int e = BitConverter.SingleToInt32Bits(exact[at]);
                        Assert.True(BitConverter.SingleToInt32Bits(narrow[at]) == e && BitConverter.SingleToInt32Bits(wide[at]) == e &&
                            BitConverter.SingleToInt32Bits(fallback[at]) == e,
                            $"{what}: output {at} (channel {at / pixels}, pixel {at % pixels}): AVX2 {narrow[at]:R}, AVX-512 {wide[at]:R}, " +
                            $"fallback {fallback[at]:R}, exact chain {exact[at]:R}");
                    }
                    var reference = ScalarConv.Run(shape, data.Weight, data.Bias, data.Source, data.Second, data.Tail, data.Residual);
                    double maxInput = ConvBound.MaxInput(shape, data.Source, data.Second, data.Tail);
                    double maxResidual = data.Residual == null ? 0 : ConvBound.MaxAbs(data.Residual, shape.Out * shape.Pixels);
                    var (ratio, worst) = ConvBound.Compare(shape, data.Weight, data.Bias, maxInput, maxResidual, narrow, at => reference[at], "reference");
                    Assert.True(ratio <= 1, $"{what}: {worst}");
                }
                finally
                {
                    Workers.MaxThreads = before;
                }
            }
        }
    }

    /// <summary>
    /// The exact-chain check sees a chain broken as a kernel could break it, at the pixel after the whole tiles (a 7×7
    /// map's 49th on AVX2): each depth slice summed from zero and the slices then added (partial sums not resumed), the
    /// products summed in another order, and one input missing. Each changes the bits of some of that pixel's outputs
    /// (the missing input beyond the error bound too), while the kernel's are the exact chain's.
    /// </summary>
    [Fact]
    public void ExactChainSeesABrokenChain()
    {
        var shape = new ConvShape(300, 7, 7, 36, 1, 1, 0, Residual: true);
        var schedule = new Schedule(ThreadSplit.WeightPanels, GemmInput.InPlace, PackB: true, GemmRemainder.PixelsAcrossPanels);
        var actual = RunOnce("broken chain", Kernel.GemmAvx2, shape, schedule, 49, out var data);
        const int Pixel = 48;
        int Differ(float[] chain) => Enumerable.Range(0, shape.Out).Count(c =>
            BitConverter.SingleToInt32Bits(chain[c * 49 + Pixel]) != BitConverter.SingleToInt32Bits(actual[c * 49 + Pixel]));
        Assert.Equal(0, Differ(ExactChain(shape, data)));
        var slicesFromZero = ExactChain(shape, data, order: k => k, sliceFromZero: true);
        var reversed = ExactChain(shape, data, order: k => shape.Depth - 1 - k);
        var missing = ExactChain(shape, data, skip: 200);
        output.WriteLine($"outputs of pixel {Pixel} that differ: slices from zero {Differ(slicesFromZero)}, reversed {Differ(reversed)}, missing input {Differ(missing)}");
        Assert.True(Differ(slicesFromZero) > 0 && Differ(reversed) > 0, "a chain summed otherwise must change some bits");
        Assert.Equal(shape.Out, Differ(missing));
        double maxInput = ConvBound.MaxInput(shape, data.Source, data.Second, data.Tail), maxResidual = ConvBound.MaxAbs(data.Residual!, shape.Out * shape.Pixels);
        var (ratio, worst) = ConvBound.Compare(shape, data.Weight, data.Bias, maxInput, maxResidual, missing, at => actual[at], "kernel");
        Assert.True(ratio > 1, $"an input missing should exceed the bound: {worst}");
    }

    /// <summary>
    /// A 1×1 stride-1 GEMM conv as every kernel must compute it, in float32: per output, one fused multiply-add per input
    /// in k order from zero (a depth slice's partial sum stored and resumed exactly, so the same chain), then the bias,
    /// the residual and ReLU, each rounded. <paramref name="order"/>, <paramref name="sliceFromZero"/> and
    /// <paramref name="skip"/> break it on purpose (<see cref="ExactChainSeesABrokenChain"/>).
    /// </summary>
    private static float[] ExactChain(ConvShape s, Operands data, Func<int, int>? order = null, bool sliceFromZero = false, int skip = -1)
    {
        Assert.True(s.Kernel == 1 && s.Stride == 1 && s.Padding == 0 && s.TailChannel == 0, "the exact chain is written for 1×1 stride-1 convs");
        int n = s.Pixels, k = s.Depth;
        var result = new float[s.Out * n];
        for (int c = 0; c < s.Out; c++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f, slice = 0f;
                for (int step = 0; step < k; step++)
                {
                    int i = order?.Invoke(step) ?? step;
                    if (i == skip) continue;
                    float b = s.Summed ? data.Source[i * n + j] + data.Second![i * n + j] : data.Source[i * n + j];
                    if (sliceFromZero && step % 128 == 0)
                    {
                        sum += slice;
                        slice = 0f;
                    }
                    slice = MathF.FusedMultiplyAdd(data.Weight[c * k + i], b, slice);
                }
                float x = sliceFromZero ? sum + slice : slice;
                x += data.Bias[c];
                if (s.Residual) x += data.Residual![c * n + j];
                if (s.Relu) x = MathF.Max(x, 0f);
                result[c * n + j] = x;
            }
        }
        return result;
    }

    /// <summary>Schedules the kernel cannot run exactly, each refused with the rule it breaks, before anything is written.</summary>
    private static readonly Dictionary<string, (Kernel Kernel, ConvShape Shape, Schedule Schedule, string Rule)> s_wrong = new()
    {
        ["direct conv without same padding"] = (Kernel.DirectAvx512, new(8, 9, 9, 8, 3, 1, 0), new(ThreadSplit.Single, Tiles: 1), "\"same\" padding"),
        ["direct conv on a summed stride-2 input"] = (Kernel.DirectAvx512, new(4, 10, 10, 4, 3, 2, 1, Summed: true), new(ThreadSplit.Single, Tiles: 1), "without a summed input"),
        ["direct conv 5x5"] = (Kernel.DirectAvx512, new(4, 10, 10, 4, 5, 1, 2), new(ThreadSplit.Single, Tiles: 2), "3×3 and 7×7"),
        ["direct conv with a residual"] = (Kernel.DirectAvx512, new(4, 7, 7, 4, 3, 1, 1, Residual: true), new(ThreadSplit.Single, Tiles: 1), "Residual must be false"),
        ["direct conv with a tail"] = (Kernel.DirectAvx512, new(4, 7, 7, 4, 3, 1, 1, TailChannel: 2), new(ThreadSplit.Single, Tiles: 1), "TailChannel is 2"),
        ["direct tiles that leave pixels out"] = (Kernel.DirectAvx512, new(16, 14, 14, 20, 3, 1, 1), new(ThreadSplit.Single, Tiles: 3), "cover 192 plane-row pixels; this layer has 222"),
        ["direct tile past the pixels"] = (Kernel.DirectAvx512, new(16, 14, 14, 20, 3, 1, 1), new(ThreadSplit.Single, Tiles: 5), "the last must start inside them"),
        ["direct more five-vector tiles than tiles"] = (Kernel.DirectAvx512, new(16, 14, 14, 20, 3, 1, 1), new(ThreadSplit.Single, Tiles: 2, FiveVectorTiles: 3), "0 to Tiles of them"),
        ["direct no tiles"] = (Kernel.DirectAvx512, new(16, 14, 14, 20, 3, 1, 1), new(ThreadSplit.Single), "at least one tile"),
        ["direct256 five-vector tiles"] = (Kernel.DirectAvx2, new(16, 14, 14, 20, 3, 1, 1), new(ThreadSplit.Single, Tiles: 10, FiveVectorTiles: 1), "tiles of 3 vectors take no extra vector"),
        ["direct256 tiles that leave pixels out"] = (Kernel.DirectAvx2, new(16, 14, 14, 20, 3, 1, 1), new(ThreadSplit.Single, Tiles: 9), "cover 216 plane-row pixels; this layer has 222"),
        ["direct256 tile past the pixels"] = (Kernel.DirectAvx2, new(16, 14, 14, 20, 3, 1, 1), new(ThreadSplit.Single, Tiles: 11), "the last must start inside them"),
        ["direct256 conv on a summed stride-2 input"] = (Kernel.DirectAvx2, new(4, 10, 10, 4, 3, 2, 1, Summed: true), new(ThreadSplit.Single, Tiles: 1), "without a summed input"),
        ["gemm no remainder where pixels are left"] = (Kernel.GemmAvx512, new(32, 14, 14, 24, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.None), "leaves pixels out: 196 pixels are 3 tiles of 64 and 4 more"),
        ["gemm a remainder where none is left"] = (Kernel.GemmAvx2, new(4, 6, 8, 4, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.NarrowTile), "it must be None"),
        ["gemm fifth vector on AVX2"] = (Kernel.GemmAvx2, new(32, 14, 14, 24, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.FifthVector), "FifthVector takes at most one vector"),
        ["gemm fifth vector of more than a vector"] = (Kernel.GemmAvx512, new(4, 10, 10, 4, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.FifthVector), "36 more"),
        ["gemm fifth vector without a whole tile"] = (Kernel.GemmAvx512, new(4, 3, 3, 4, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.FifthVector), "0 tiles of 64"),
        ["gemm pixel for other than 49"] = (Kernel.GemmAvx512, new(4, 7, 8, 4, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.ThreeVectorsAndAPixel), "is for 49 pixels"),
        ["gemm pixel on AVX2"] = (Kernel.GemmAvx2, new(4, 7, 7, 4, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.ThreeVectorsAndAPixel), "is for 49 pixels"),
        ["gemm pixels across panels on AVX-512"] = (Kernel.GemmAvx512, new(4, 7, 7, 4, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.PixelsAcrossPanels), "takes 1 to 4 pixels after the whole tiles of 24 (AVX2); 49 pixels are 0 tiles of 64 and 49 more"),
        ["gemm pixels across panels for 5 pixels"] = (Kernel.GemmAvx2, new(4, 1, 29, 12, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.PixelsAcrossPanels), "takes 1 to 4 pixels after the whole tiles of 24 (AVX2); 29 pixels are 1 tiles of 24 and 5 more"),
        ["gemm pixels across panels where none is left"] = (Kernel.GemmAvx2, new(4, 6, 8, 12, 1, 1, 0), new(ThreadSplit.Single, Remainder: GemmRemainder.PixelsAcrossPanels), "Remainder PixelsAcrossPanels, but 48 pixels are 2 tiles of 24 and 0 more: it must be None"),
        ["gemm undefined remainder"] = (Kernel.GemmAvx2, new(4, 7, 7, 4, 1, 1, 0), new(ThreadSplit.Single, Remainder: (GemmRemainder)7), "Remainder 7"),
        ["gemm in place on a 3x3"] = (Kernel.GemmAvx2, new(4, 7, 7, 4, 3, 1, 1), new(ThreadSplit.Single, GemmInput.InPlace, Remainder: GemmRemainder.Vectors), "Input InPlace"),
        ["gemm in place on a summed 1x1"] = (Kernel.GemmAvx2, new(4, 7, 7, 4, 1, 1, 0, Summed: true), new(ThreadSplit.Single, GemmInput.InPlace, Remainder: GemmRemainder.Vectors), "Input InPlace"),
        ["gemm per-thread gather by weight panels"] = (Kernel.GemmAvx2, new(4, 7, 7, 4, 3, 1, 1), new(ThreadSplit.WeightPanels, GemmInput.GatheredPerThread, Remainder: GemmRemainder.Vectors), "it needs Gathered"),
        ["gemm tail unpacked"] = (Kernel.GemmAvx2, new(8, 7, 7, 4, 1, 1, 0, TailChannel: 3), new(ThreadSplit.Single, GemmInput.InPlace, Remainder: GemmRemainder.Vectors), "TailChannel 3"),
        ["gemm tail gathered"] = (Kernel.GemmAvx2, new(8, 7, 7, 4, 1, 1, 0, TailChannel: 3), new(ThreadSplit.Single, GemmInput.Gathered, PackB: true, Remainder: GemmRemainder.Vectors), "TailChannel 3"),
        ["gemm shortcut tail of the wrong size"] = (Kernel.GemmAvx2, new(8, 7, 7, 4, 1, 1, 0, TailChannel: 3, TailStride: 2, TailHeight: 15, TailWidth: 14), new(ThreadSplit.Single, GemmInput.InPlace, PackB: true, Remainder: GemmRemainder.Vectors), "a 15×14 tail read at stride 2 gives 8×7 pixels, not the 7×7 output"),
        ["gemm tail stride without a tail"] = (Kernel.GemmAvx2, new(8, 7, 7, 4, 1, 1, 0, TailStride: 2, TailHeight: 14, TailWidth: 14), new(ThreadSplit.Single, GemmInput.InPlace, Remainder: GemmRemainder.Vectors), "a layer without a tail keeps the defaults"),
        ["gemm tail past the channels"] = (Kernel.GemmAvx2, new(8, 7, 7, 4, 1, 1, 0, TailChannel: 8), new(ThreadSplit.Single, GemmInput.InPlace, PackB: true, Remainder: GemmRemainder.Vectors), "TailChannel 8"),
    };

    public static TheoryData<string> WrongSchedules => new(s_wrong.Keys);

    [Theory]
    [MemberData(nameof(WrongSchedules))]
    public void WrongScheduleThrowsBeforeWriting(string name)
    {
        var (kernel, shape, schedule, rule) = s_wrong[name];
        var error = Assert.Throws<InvalidOperationException>(() => RunOnce(name, kernel, shape, schedule, Seed(name), out _));
        output.WriteLine(error.Message);
        Assert.Contains(rule, error.Message);
        Assert.Contains("TestLayer", error.Message); // names the layer type
    }

    [Fact]
    public void LayerThatLiesAboutItsOutputThrows()
    {
        var shape = new ConvShape(4, 9, 9, 4, 3, 2, 1);
        var layer = TestLayers.TypeOf(shape, new(ThreadSplit.Single, GemmInput.Gathered, Remainder: GemmRemainder.Vectors), outHeight: 4);
        var error = Assert.Throws<InvalidOperationException>(() => Run(Kernel.GemmAvx2, layer, shape, Operands.Random(shape, 7), "lying output"));
        Assert.Contains("the output of this conv is 5×5", error.Message);
    }

    [Fact]
    public void MissingOperandThrows()
    {
        var shape = new ConvShape(4, 7, 7, 4, 3, 1, 1, Summed: true, Residual: true);
        var layer = TestLayers.TypeOf(shape, new(ThreadSplit.Single, GemmInput.Gathered, Remainder: GemmRemainder.Vectors));
        var data = Operands.Random(shape, 3) with { Second = null };
        var error = Assert.Throws<ArgumentException>(() => Run(Kernel.GemmAvx2, layer, shape, data, "no second"));
        output.WriteLine(error.Message);
        Assert.Contains("no Second (the layer is Summed)", error.Message);
    }

    /// <summary>Without AVX-512 (this machine's, or disabled) the AVX-512 entry points refuse, naming the way out; with it, they run.</summary>
    [Fact]
    public void Avx512EntryPointsRefuseWithoutAvx512()
    {
        var shape = new ConvShape(4, 7, 7, 4, 3, 1, 1);
        var layer = TestLayers.TypeOf(shape, new(ThreadSplit.Single, GemmInput.Gathered, Remainder: GemmRemainder.ThreeVectorsAndAPixel, Tiles: 1));
        var data = Operands.Random(shape, 5);
        foreach (var kernel in new[] { Kernel.DirectAvx512, Kernel.GemmAvx512 })
        {
            void Public() => Run(kernel, layer, shape, data, "public entry point", publicEntry: true);
            if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
            {
                Public();
                continue;
            }
            var error = Assert.Throws<PlatformNotSupportedException>(Public);
            output.WriteLine(error.Message);
            Assert.Contains("needs AVX-512", error.Message);
            Assert.Contains("GemmAvx2", error.Message);
        }
    }

    private static (ConvShape, Schedule) RandomGemm(Random random, Kernel kernel)
    {
        int k = new[] { 1, 1, 3, 5, 7 }[random.Next(5)], stride = random.Next(1, 3), padding = random.Next(0, k / 2 + 1);
        int inChannels = random.Next(1, 25), height = random.Next(Math.Max(1, k - 2 * padding), 31), width = random.Next(Math.Max(1, k - 2 * padding), 31);
        bool inPlace = k == 1 && stride == 1 && padding == 0 && random.Next(3) > 0;
        bool summed = !inPlace && random.Next(2) == 0;
        int tail = inPlace && inChannels > 1 && random.Next(2) == 0 ? random.Next(1, inChannels) : 0;
        // Half the tails are a folded shortcut's input: a map of 2·size − 1 or 2·size read at stride 2.
        int tailStride = tail > 0 && random.Next(2) == 0 ? 2 : 1;
        int tailHeight = tailStride > 1 ? 2 * height - random.Next(2) : 0, tailWidth = tailStride > 1 ? 2 * width - random.Next(2) : 0;
        var shape = new ConvShape(inChannels, height, width, random.Next(1, 25), k, stride, padding, tail, summed, random.Next(2) == 0, random.Next(2) == 0,
            tailStride, tailHeight, tailWidth);
        var split = (ThreadSplit)random.Next(3);
        var input = inPlace ? GemmInput.InPlace : split != ThreadSplit.WeightPanels && random.Next(2) == 0 ? GemmInput.GatheredPerThread : GemmInput.Gathered;
        // The remainders the kernel must run exactly (Gemm.Refusal): any that covers the pixels.
        int lanes = kernel == Kernel.GemmAvx512 ? 16 : 8, tile = kernel == Kernel.GemmAvx512 ? 64 : 24, rest = shape.Pixels % tile;
        var remainders = new List<GemmRemainder>();
        if (rest == 0) remainders.Add(GemmRemainder.None);
        else remainders.AddRange([GemmRemainder.NarrowTile, GemmRemainder.Vectors]);
        if (lanes == 16 && rest > 0 && rest <= lanes && shape.Pixels > tile) remainders.Add(GemmRemainder.FifthVector);
        if (lanes == 16 && rest == 49) remainders.Add(GemmRemainder.ThreeVectorsAndAPixel);
        if (lanes == 8 && rest > 0 && rest <= Gemm.MaxPixelsAcrossPanels) remainders.Add(GemmRemainder.PixelsAcrossPanels);
        var schedule = new Schedule(split, input, tail > 0 || random.Next(2) == 0, remainders[random.Next(remainders.Count)]);
        return (shape, schedule);
    }

    private static (ConvShape, Schedule) RandomDirect(Random random, Kernel kernel)
    {
        int k = random.Next(4) == 0 ? 7 : 3, stride = random.Next(1, 3);
        int height = random.Next(1, 31), width = random.Next(1, 31);
        var shape = new ConvShape(random.Next(1, 25), height, width, random.Next(1, 25), k, stride, k / 2,
            Summed: stride == 1 && random.Next(2) == 0, Relu: random.Next(2) == 0);
        // Plane-row pixels (DirectConv.Pixels), then any tiling that covers them with the last tile starting inside.
        int p = k / 2, rowWidth = stride == 1 ? width + 2 * p : shape.OutWidth + p;
        int n = shape.OutHeight * rowWidth - (rowWidth - shape.OutWidth);
        bool avx512 = kernel == Kernel.DirectAvx512;
        int Start(int tile, int five) => avx512 ? tile * 64 + Math.Min(tile, five) * 16 : tile * 24;
        var tilings = new List<(int Tiles, int Five)>();
        for (int tiles = 1; Start(tiles - 1, 0) < n; tiles++)
        {
            for (int five = 0; five <= (avx512 ? tiles : 0); five++)
            {
                if (Start(tiles, five) >= n && Start(tiles - 1, five) < n) tilings.Add((tiles, five));
            }
        }
        var (t, f) = tilings[random.Next(tilings.Count)];
        return (shape, new Schedule((ThreadSplit)random.Next(3), Tiles: t, FiveVectorTiles: f));
    }

    /// <summary>
    /// Runs the fallback and the specialized kernel on <paramref name="threads"/> threads: the same bits, both within the
    /// bound of the scalar reference.
    /// </summary>
    private void Check(string name, Kernel kernel, ConvShape shape, Schedule schedule, int threads, int seed)
    {
        string what = $"{name} [{shape}; {schedule}; {threads} thread(s)]";
        int before = Workers.MaxThreads;
        try
        {
            Workers.MaxThreads = threads;
            var specialized = RunOnce(what, kernel, shape, schedule, seed, out var data);
            var fallback = RunFallback(shape, data, what);
            for (int i = 0; i < fallback.Length; i++)
            {
                int a = BitConverter.SingleToInt32Bits(specialized[i]), b = BitConverter.SingleToInt32Bits(fallback[i]);
                Assert.True(a == b, $"{what}: output {i} is {specialized[i]:R}, the fallback's {fallback[i]:R}");
            }
            var reference = ScalarConv.Run(shape, data.Weight, data.Bias, data.Source, data.Second, data.Tail, data.Residual);
            double maxInput = ConvBound.MaxInput(shape, data.Source, data.Second, data.Tail);
            double maxResidual = data.Residual == null ? 0 : ConvBound.MaxAbs(data.Residual, shape.Out * shape.Pixels);
            var (ratio, worst) = ConvBound.Compare(shape, data.Weight, data.Bias, maxInput, maxResidual, specialized, at => reference[at], "reference");
            output.WriteLine($"{what}: worst {ratio:F3} × the bound");
            Assert.True(ratio <= 1, $"{what}: {worst}");
        }
        finally
        {
            Workers.MaxThreads = before;
        }
    }

    private static float[] RunOnce(string what, Kernel kernel, ConvShape shape, Schedule schedule, int seed, out Operands data)
    {
        data = Operands.Random(shape, seed);
        return Run(kernel, TestLayers.TypeOf(shape, schedule), shape, data, what);
    }

    /// <summary>The layer's operands: PyTorch's weight layout, and activations with poisoned slack.</summary>
    private sealed record Operands(float[] Weight, float[] Bias, float[] Source, float[]? Second, float[]? Tail, float[]? Residual)
    {
        public static Operands Random(ConvShape s, int seed)
        {
            var random = new Random(seed);
            float[] Values(int count, double scale) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
            int plane = s.Height * s.Width;
            return new Operands(
                Values(s.Out * s.Depth, 1 / Math.Sqrt(s.Depth)), Values(s.Out, 0.5),
                Slack.Padded(Values(s.SourceChannels * plane, 1)),
                s.Summed ? Slack.Padded(Values(s.In * plane, 1)) : null,
                s.TailChannel > 0 ? Slack.Padded(Values((s.In - s.TailChannel) * s.TailRows * s.TailColumns, 1)) : null,
                s.Residual ? Slack.Padded(Values(s.Out * s.Pixels, 1)) : null);
        }
    }

    private static float[] RunFallback(ConvShape s, Operands data, string what) => Guarded(s, data, what, (in ConvOperands io) =>
        Gemm.Conv(io.Weights, io.Bias, io.Source, io.Second, io.Tail, s.TailChannel, io.Destination, io.Residual, s.Relu, s.Out, s.In,
            s.Height, s.Width, s.Kernel, s.Stride, s.Padding, s.OutHeight, s.OutWidth, s.TailStride, s.TailHeight, s.TailWidth));

    private static float[] Run(Kernel kernel, Type layer, ConvShape s, Operands data, string what, bool publicEntry = false)
    {
        var entry = s_entries.GetOrAdd((layer, publicEntry), key => (key.Public ? s_public : s_internal).MakeGenericMethod(key.Layer).CreateDelegate<Entry>());
        return Guarded(s, data, what, (in ConvOperands io) => entry(kernel, io));
    }

    private delegate void Entry(Kernel kernel, in ConvOperands io);

    private delegate void Body(in ConvOperands io);

    private static readonly ConcurrentDictionary<(Type Layer, bool Public), Entry> s_entries = new();

    private static readonly MethodInfo s_internal = typeof(SpecializedConvTests).GetMethod(nameof(Specialized), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static readonly MethodInfo s_public = typeof(SpecializedConvTests).GetMethod(nameof(Public), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>The specialized kernel: the public entry point where the machine runs it, else the same code in software.</summary>
    private static void Specialized<T>(Kernel kernel, in ConvOperands io) where T : struct, IGemmConvLayer, IDirectConvLayer
    {
        bool avx512 = Avx512F.IsSupported && Vector512.IsHardwareAccelerated;
        if (kernel is Kernel.GemmAvx2 or Kernel.DirectAvx2 || avx512) Public<T>(kernel, io);
        else if (kernel == Kernel.DirectAvx512) DirectConv.Conv<T, Simd512, Vector512<float>>(io);
        else Gemm.Conv<T, Simd512, Vector512<float>>(io);
    }

    private static void Public<T>(Kernel kernel, in ConvOperands io) where T : struct, IGemmConvLayer, IDirectConvLayer
    {
        if (kernel == Kernel.DirectAvx512) ConvKernels.DirectAvx512<T>(io);
        else if (kernel == Kernel.DirectAvx2) ConvKernels.DirectAvx2<T>(io);
        else if (kernel == Kernel.GemmAvx512) ConvKernels.GemmAvx512<T>(io);
        else ConvKernels.GemmAvx2<T>(io);
    }

    /// <summary>Runs a kernel into a poisoned destination; checks it wrote nothing past it and left its inputs alone (also when it throws).</summary>
    private static float[] Guarded(ConvShape s, Operands data, string what, Body body)
    {
        var weights = s.PackedWeights(data.Weight);
        var bias = s.PaddedBias(data.Bias);
        int count = s.Out * s.Pixels;
        var destination = Slack.Poisoned(count);
        var inputs = new[] { data.Source, data.Second, data.Tail, data.Residual }.Where(b => b != null).Select(b => (b!, b!.ToArray())).ToArray();
        try
        {
            fixed (float* w = weights, b = bias, x = data.Source, s2 = data.Second, t = data.Tail, r = data.Residual, d = destination)
            {
                body(new ConvOperands { Weights = w, Bias = b, Source = x, Second = s2, Tail = t, Residual = r, Destination = d });
            }
        }
        catch
        {
            // A refusal comes before the kernel writes anything.
            Slack.AssertUntouched(destination, 0, what);
            throw;
        }
        Slack.AssertUntouched(destination, count, what);
        foreach (var (buffer, before) in inputs) Assert.True(buffer.AsSpan().SequenceEqual(before), $"{what}: an input buffer was written");
        return destination.AsSpan(0, count).ToArray();
    }

    /// <summary>A seed from the case name that is the same in every process (string.GetHashCode is not).</summary>
    private static int Seed(string name) => name.Aggregate(17, (h, c) => unchecked(h * 31 + c));
}
