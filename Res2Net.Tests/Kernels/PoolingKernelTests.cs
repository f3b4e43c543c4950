using Res2Net.Runtime.IO;
using Res2Net.Runtime.Kernels;
using Res2Net.Tests.Reference;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Kernels;

/// <summary>
/// The <see cref="Pooling"/> kernels against PyTorch's pools of the same input (Fixtures/kernels/pool.*.npz, written
/// by tools/reference/make_kernel_fixtures.py): Res2Net's MaxPool2d(3, 2, 1) and AvgPool2d(3, 1 or 2, 1), which
/// take the vectorized 3-wide window path, avg_down's AvgPool2d(k, k, ceil_mode=True, count_include_pad=False)
/// and the global average, on odd sizes, rows narrower than a vector and widths that are not a multiple of 8.
/// Inputs end in poisoned slack (<see cref="Slack"/>) and destinations start poisoned.
/// </summary>
public unsafe class PoolingKernelTests(ITestOutputHelper output)
{
    private static readonly string[] s_all = ["max_k3_s2_p1", "avg_k3_s1_p1", "avg_k3_s2_p1", "avgceil_k2_s2_p0", "avgceil_k1_s1_p0", "global"];

    /// <summary>The fixtures (named cC-HxW) and the pools each holds, as the fixture script lists them.</summary>
    private static readonly Dictionary<string, string[]> s_cases = new()
    {
        ["c3-7x9"] = s_all,
        ["c4-13x17"] = s_all,
        ["c2-24x20"] = s_all,
        ["c3-5x6"] = s_all,
        ["c9-5x3"] = s_all,
        ["c20-7x7"] = ["avg_k3_s1_p1", "avgceil_k2_s2_p0", "global"],
        ["c1-56x56"] = s_all,
        ["c1-112x112"] = ["max_k3_s2_p1", "avg_k3_s2_p1"],
    };

    private static TheoryData<string, string> Select(Func<string, bool> pool)
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, pools) in s_cases)
        {
            foreach (var p in pools.Where(pool)) data.Add(name, p);
        }
        return data;
    }

    public static TheoryData<string, string> MaxPools => Select(p => p.StartsWith("max_", StringComparison.Ordinal));

    public static TheoryData<string, string> AveragePools => Select(p => !p.StartsWith("max_", StringComparison.Ordinal));

    /// <summary>A maximum is one of its inputs, whatever the order: ours must be PyTorch's, bit for bit.</summary>
    [Theory]
    [MemberData(nameof(MaxPools))]
    public void MaxPoolEqualsPyTorchBitForBit(string name, string pool)
    {
        var input = PoolInput.Load(name);
        var expected = input.Expected(pool);

        var actual = input.Run(pool);

        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                Assert.Fail($"{name} {pool}: output {i} is {actual[i]:R}, PyTorch {expected[i]:R}");
        }
    }

    /// <summary>
    /// Averages: PyTorch's are computed in float64 and rounded once, so they are within half an ulp of the exact
    /// mean. Ours sums at most n = k·k (H·W for the global average) inputs in float32 in its own order (the
    /// 3-wide windows add columns first, the global average 8 lanes at a time), each addition erring by at most
    /// u = 2^-24 × |partial sum| ≤ u·n·max|x|, then divides by at least the number of terms (one more rounding).
    /// So |ours − PyTorch| ≤ (n − 1)·u·max|x| + u·max|x| + u·max|x| = (n + 1)·u·max|x|, whatever the order:
    /// 6e-7·max|x| for a 3×3 window, while one input missing from a window or taken from its neighbour moves the
    /// average by |x| / n for the x concerned, about 0.1 (<see cref="BoundCatchesAWrongWindowElement"/>).
    /// The bound is capped at 2^-20·max|x| (≈ 1e-6 relative), which only the global averages of n ≥ 16 reach:
    /// there the worst case, which would let a missing element (|x| / n) pass, needs every rounding to err the
    /// same way on partial sums near n·max|x|. These inputs are zero-mean: their partial sums stay near √n and
    /// the roundings' signs vary, so the error is about u·σ, and the observed one is below 1e-8·max|x|.
    /// </summary>
    [Theory]
    [MemberData(nameof(AveragePools))]
    public void AveragePoolEqualsPyTorch(string name, string pool)
    {
        var input = PoolInput.Load(name);

        var (ratio, worst) = input.Compare(pool, input.Run(pool));

        output.WriteLine($"{name} {pool}: worst {worst}");
        Assert.True(ratio <= 1, $"{name} {pool}: {worst}");
    }

    [Fact]
    public void BoundCatchesAWrongWindowElement()
    {
        var input = PoolInput.Load("c4-13x17");
        // Swap two neighbours of channel 0's row 5: column 5 is in the stride-2 windows of outputs 2 and 3,
        // column 6 only in output 3's, so output (2, 2) sees a wrong input.
        (input.Data[5 * 17 + 5], input.Data[5 * 17 + 6]) = (input.Data[5 * 17 + 6], input.Data[5 * 17 + 5]);

        var (ratio, worst) = input.Compare("avg_k3_s2_p1", input.Run("avg_k3_s2_p1"));

        output.WriteLine($"with two inputs swapped: worst {worst}");
        Assert.True(ratio > 30, $"a wrong input in a window should exceed the bound many times over: {worst}");
    }

    [Fact]
    public void EveryPoolFixtureHasACase()
    {
        foreach (var (name, pools) in s_cases)
        {
            var arrays = Npz.Read(Fixtures.Path("kernels", $"pool.{name}.npz"));
            Assert.Equal(pools.Order(), arrays.Keys.Where(k => k != "input").Order());
        }
        var files = Directory.GetFiles(Fixtures.Path("kernels"), "pool.*.npz").Select(f => Path.GetFileName(f)[5..^4]).Order();
        Assert.Equal(s_cases.Keys.Order(), files);
    }

    /// <summary>One pool fixture: the input [C, H, W] with its slack, and PyTorch's pools of it.</summary>
    private sealed class PoolInput
    {
        private readonly IReadOnlyDictionary<string, (float[] Data, int[] Shape)> _arrays;

        private PoolInput(string name, IReadOnlyDictionary<string, (float[] Data, int[] Shape)> arrays)
        {
            _arrays = arrays;
            Name = name;
            var shape = arrays["input"].Shape;
            Assert.Equal(3, shape.Length);
            (Channels, Height, Width) = (shape[0], shape[1], shape[2]);
            Assert.Equal($"c{Channels}-{Height}x{Width}", name);
            Data = Slack.Padded(arrays["input"].Data);
        }

        public string Name { get; }
        public int Channels { get; }
        public int Height { get; }
        public int Width { get; }

        /// <summary>The input, then <see cref="Gemm.ReadSlack"/> poisoned floats.</summary>
        public float[] Data { get; }

        public static PoolInput Load(string name) => new(name, Npz.Read(Fixtures.Path("kernels", $"pool.{name}.npz")));

        public float[] Expected(string pool) => _arrays[pool].Data;

        /// <summary>"max_k3_s2_p1" → ("max", 3, 2, 1); "global" → ("global", H·W window, 0, 0).</summary>
        private (string Op, int Kernel, int Stride, int Padding) Parse(string pool)
        {
            if (pool == "global") return (pool, 0, 0, 0);
            var parts = pool.Split('_');
            return (parts[0], int.Parse(parts[1][1..]), int.Parse(parts[2][1..]), int.Parse(parts[3][1..]));
        }

        public float[] Run(string pool)
        {
            var (op, kernel, stride, padding) = Parse(pool);
            int outHeight = 1, outWidth = 1;
            if (op != "global")
            {
                outHeight = Window.OutputSize(Height, kernel, stride, padding, ceilMode: op == "avgceil");
                outWidth = Window.OutputSize(Width, kernel, stride, padding, ceilMode: op == "avgceil");
            }
            var expectedShape = op == "global" ? new[] { Channels } : new[] { Channels, outHeight, outWidth };
            Assert.Equal(expectedShape, _arrays[pool].Shape);
            int count = Channels * outHeight * outWidth;
            var destination = Slack.Poisoned(count);
            var before = Data.ToArray();
            fixed (float* x = Data, d = destination)
            {
                switch (op)
                {
                    case "max": Pooling.Max(x, d, Channels, Height, Width, kernel, stride, padding, outHeight, outWidth); break;
                    case "avg": Pooling.AverageIncludePad(x, d, Channels, Height, Width, kernel, stride, padding, outHeight, outWidth); break;
                    case "avgceil": Pooling.AverageCeilExcludePad(x, d, Channels, Height, Width, kernel, stride, padding, outHeight, outWidth); break;
                    case "global": Pooling.GlobalAverage(x, d, Channels, Height * Width); break;
                    default: throw new ArgumentException($"unknown pool '{pool}'", nameof(pool));
                }
            }
            Slack.AssertUntouched(destination, count, $"{Name} {pool}");
            Assert.True(Data.AsSpan().SequenceEqual(before), $"{Name} {pool}: the input was written");
            return destination.AsSpan(0, count).ToArray();
        }

        /// <summary>The largest |ours − PyTorch| / (min(n + 1, 16)·2^-24·max|x|), and a description of that output.</summary>
        public (double Ratio, string Worst) Compare(string pool, float[] actual)
        {
            var (op, kernel, _, _) = Parse(pool);
            int n = op == "global" ? Height * Width : kernel * kernel;
            var expected = Expected(pool);
            Assert.Equal(expected.Length, actual.Length);
            double maxInput = 0;
            for (int i = 0; i < Channels * Height * Width; i++) maxInput = Math.Max(maxInput, Math.Abs(Data[i]));
            double bound = Math.Min((n + 1) * Math.ScaleB(1.0, -24), Math.ScaleB(1.0, -20)) * maxInput;
            double worstRatio = -1;
            string worst = "no output";
            for (int i = 0; i < actual.Length; i++)
            {
                double diff = float.IsFinite(actual[i]) ? Math.Abs((double)actual[i] - expected[i]) : double.PositiveInfinity;
                if (diff / bound > worstRatio)
                {
                    worstRatio = diff / bound;
                    worst = $"output {i} = {actual[i]:R}, PyTorch {expected[i]:R}: |diff| {diff:E2} is {worstRatio:F3} × the bound " +
                        $"min(n + 1, 16)·2^-24·max|x| = {bound:E2} (n = {n})";
                }
            }
            return (worstRatio, worst);
        }
    }
}
