using Res2Net.Runtime.IO;
using Res2Net.Runtime.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace Res2Net.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.Conv"/> on one layer at a time, against PyTorch's conv2d of the same inputs
/// (Fixtures/kernels/conv.*.npz, written by tools/reference/make_kernel_fixtures.py). The shapes are the kernels'
/// edge cases, not Res2Net's sizes: odd heights and widths, output rows shorter and longer than a vector, depth
/// above and below one 128-deep slice, and enough work (or not) for the layer to split pixel columns or weight
/// panels over the threads. Every activation buffer ends in <see cref="Gemm.ReadSlack"/> NaNs that the kernel
/// may read but must neither use nor write, and the destination starts as NaN, so a lane read past a row or a
/// sum that never started shows up as a NaN.
/// </summary>
public unsafe class ConvKernelTests(ITestOutputHelper output)
{
    /// <summary>
    /// The cases, as the fixture script lists them (each fixture repeats its row, and the test checks it). On two
    /// threads with AVX-512 a layer runs on one thread below M·N·K = 2^18, else splits pixel columns when there are
    /// at least 4 tiles of 64 pixels, else weight panels; B tiles are packed when a thread passes 8 or more panels
    /// over them, or to join a concat tail. With AVX-512, k×k convs with "same" padding and neither residual nor
    /// tail go to <c>DirectConv</c> (shifted planes instead of the gathered matrix), which splits alike; the cases
    /// with a residual keep the gathered path, so each geometry is covered on both.
    /// </summary>
    private static readonly Dictionary<string, ConvCase> s_cases = new()
    {
        // 3×3 stride 2 padding 1: the first conv of each stage's first block.
        ["k3s2-c5-13x17-o7"] = new(5, 13, 17, 7, 3, 2, 1, Relu: true),                   // 7×9 out, one thread
        ["k3s2-c7-56x56-o6"] = new(7, 56, 56, 6, 3, 2, 1, Residual: true),               // 28×28 out, column split
        ["k3s2-c16-14x14-o36"] = new(16, 14, 14, 36, 3, 2, 1, Residual: true, Relu: true), // 7×7 out, packed, K = 144
        ["k3s2-c16-13x13-o64"] = new(16, 13, 13, 64, 3, 2, 1, Relu: true),               // 7×7 out, panel split
        ["k3s2-c2-34x65-o5"] = new(2, 34, 65, 5, 3, 2, 1, Relu: true),                   // 17×33 out
        ["k3s2-c4-10x9-o10"] = new(4, 10, 9, 10, 3, 2, 1),                               // 5×5 out
        ["k3s2-c5-40x37-o16"] = new(5, 40, 37, 16, 3, 2, 1),                             // 20×19 out, column split
        ["k3s2-sum-c3-9x11-o5"] = new(3, 9, 11, 5, 3, 2, 1, Second: true, Relu: true),   // strided gather of a sum
        // 3×3 stride 1 padding 1 with the hierarchical add sp + spx[i].
        ["k3s1-sum-c8-13x11-o8"] = new(8, 13, 11, 8, 3, 1, 1, Second: true, Relu: true),
        ["k3s1-sum-c26-16x17-o26"] = new(26, 16, 17, 26, 3, 1, 1, Second: true, Relu: true), // column split, K = 234
        ["k3s1-sum-c14-7x7-o14"] = new(14, 7, 7, 14, 3, 1, 1, Second: true, Residual: true),
        ["k3s1-sum-c16-7x9-o40"] = new(16, 7, 9, 40, 3, 1, 1, Second: true, Residual: true),  // panel split
        ["k3s1-sum-c6-5x3-o10"] = new(6, 5, 3, 10, 3, 1, 1, Second: true, Relu: true),
        ["k3s1-sum-c16-7x7-o48"] = new(16, 7, 7, 48, 3, 1, 1, Second: true, Relu: true),  // panel split
        // 7×7 stride 2 padding 3: the stem.
        ["k7s2-c3-45x37-o16"] = new(3, 45, 37, 16, 7, 2, 3, Relu: true),                 // 23×19 out, column split
        ["k7s2-c3-64x64-o5"] = new(3, 64, 64, 5, 7, 2, 3),                               // 32×32 out, column split
        ["k7s2-c3-29x31-o8"] = new(3, 29, 31, 8, 7, 2, 3, Residual: true, Relu: true),   // 15×16 out, panel split
        // 1×1 stride 2: the shortcuts.
        ["k1s2-c12-13x15-o20"] = new(12, 13, 15, 20, 1, 2, 0),                           // 7×8 out
        ["k1s2-c8-21x37-o24"] = new(8, 21, 37, 24, 1, 2, 0, Relu: true),                 // 11×19 out
        // 1×1 stride 1: B read in place, or packed to join a concat tail.
        ["k1s1-c20-11x13-o12"] = new(20, 11, 13, 12, 1, 1, 0, Residual: true, Relu: true),
        ["k1s1-tail71-c136-9x7-o40"] = new(136, 9, 7, 40, 1, 1, 0, TailChannel: 71, Residual: true, Relu: true), // panel split
        ["k1s1-tail13-c32-16x17-o32"] = new(32, 16, 17, 32, 1, 1, 0, TailChannel: 13, Relu: true),              // column split
    };

    public static TheoryData<string> Cases
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in s_cases.Keys) data.Add(name);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvEqualsPyTorch(string name)
    {
        var layer = ConvLayer.Load(name, s_cases[name]);

        var actual = layer.Run(layer.PackedWeights());

        var (ratio, worst) = layer.Compare(actual);
        output.WriteLine($"{name}: worst {worst}");
        Assert.True(ratio <= 1, $"{name}: {worst}");
    }

    /// <summary>
    /// The bound is tight enough to see one tap of the kernel go missing (what a wrong stride, a padding tap that is
    /// not zero or a column taken from the next row do to a few outputs): here tap (0, 0) of input channel 0, in the
    /// case with the largest K and so the loosest bound.
    /// </summary>
    [Fact]
    public void BoundCatchesOneMissingTap()
    {
        const string name = "k3s1-sum-c26-16x17-o26";
        var layer = ConvLayer.Load(name, s_cases[name]);
        var weights = layer.PackedWeights();
        for (int co = 0; co < layer.Case.Out; co++) weights[co / Gemm.RowBlock * Gemm.RowBlock * layer.Depth + co % Gemm.RowBlock] = 0f;

        var actual = layer.Run(weights);

        var (ratio, worst) = layer.Compare(actual);
        output.WriteLine($"{name} without tap 0: worst {worst}");
        Assert.True(ratio > 30, $"a missing tap should exceed the bound many times over: {worst}");
    }

    [Fact]
    public void EveryConvFixtureHasACase()
    {
        var files = Directory.GetFiles(Fixtures.Path("kernels"), "conv.*.npz").Select(f => Path.GetFileName(f)[5..^4]).Order();
        Assert.Equal(s_cases.Keys.Order(), files);
    }

    private sealed record ConvCase(int In, int Height, int Width, int Out, int Kernel, int Stride, int Padding,
        int TailChannel = -1, bool Second = false, bool Residual = false, bool Relu = false);

    /// <summary>One conv fixture: its inputs in slack-padded buffers, and what PyTorch computed.</summary>
    private sealed class ConvLayer
    {
        public required ConvCase Case { get; init; }
        public required string Name { get; init; }
        public required int OutHeight { get; init; }
        public required int OutWidth { get; init; }
        public required float[] Weight { get; init; }
        public required float[] Bias { get; init; }
        public required float[] Source { get; init; }
        public float[]? Second { get; init; }
        public float[]? Tail { get; init; }
        public float[]? Residual { get; init; }
        public required float[] Expected { get; init; }

        /// <summary>K: the inputs of one output, in·k·k.</summary>
        public int Depth => Case.In * Case.Kernel * Case.Kernel;

        public int Pixels => OutHeight * OutWidth;

        public static ConvLayer Load(string name, ConvCase c)
        {
            var arrays = Npz.Read(Fixtures.Path("kernels", $"conv.{name}.npz"));
            var geometry = new float[] { c.In, c.Height, c.Width, c.Out, c.Kernel, c.Stride, c.Padding, c.TailChannel,
                c.Second ? 1 : 0, c.Residual ? 1 : 0, c.Relu ? 1 : 0 };
            Assert.Equal(geometry, arrays["geometry"].Data);
            // PyTorch's conv2d output size.
            int outHeight = (c.Height + 2 * c.Padding - c.Kernel) / c.Stride + 1;
            int outWidth = (c.Width + 2 * c.Padding - c.Kernel) / c.Stride + 1;
            int sourceChannels = c.TailChannel < 0 ? c.In : c.TailChannel;
            Assert.Equal(new[] { sourceChannels, c.Height, c.Width }, arrays["input"].Shape);
            Assert.Equal(new[] { c.Out, c.In, c.Kernel, c.Kernel }, arrays["weight"].Shape);
            Assert.Equal(new[] { c.Out }, arrays["bias"].Shape);
            Assert.Equal(new[] { c.Out, outHeight, outWidth }, arrays["expected"].Shape);
            Assert.Equal(c.TailChannel >= 0, arrays.ContainsKey("tail"));
            Assert.Equal(c.Second, arrays.ContainsKey("second"));
            Assert.Equal(c.Residual, arrays.ContainsKey("residual"));
            float[]? Optional(string key, int[] shape)
            {
                if (!arrays.TryGetValue(key, out var array)) return null;
                Assert.Equal(shape, array.Shape);
                return Slack.Padded(array.Data);
            }
            return new ConvLayer
            {
                Case = c, Name = name, OutHeight = outHeight, OutWidth = outWidth,
                Weight = arrays["weight"].Data, Bias = arrays["bias"].Data, Expected = arrays["expected"].Data,
                Source = Slack.Padded(arrays["input"].Data),
                Second = Optional("second", [c.In, c.Height, c.Width]),
                Tail = Optional("tail", [c.In - sourceChannels, c.Height, c.Width]),
                Residual = Optional("residual", [c.Out, outHeight, outWidth]),
            };
        }

        /// <summary>
        /// The weights as <c>WeightBinder.ConvBatchNorm</c> lays them out (without a BatchNorm to fold): output
        /// channels in panels of <see cref="Gemm.RowBlock"/>, each panel holding, for every one of the K inputs in
        /// PyTorch's [in, kh, kw] order, its channels' weights side by side; rows past the last channel are zero.
        /// </summary>
        public float[] PackedWeights()
        {
            int k = Depth, rows = Rows;
            var packed = new float[rows * k];
            for (int co = 0; co < Case.Out; co++)
            {
                int panel = co / Gemm.RowBlock * Gemm.RowBlock * k, lane = co % Gemm.RowBlock;
                for (int i = 0; i < k; i++) packed[panel + i * Gemm.RowBlock + lane] = Weight[co * k + i];
            }
            return packed;
        }

        private int Rows => (Case.Out + Gemm.RowBlock - 1) / Gemm.RowBlock * Gemm.RowBlock;

        /// <summary>Runs the kernel; checks it wrote nothing past the destination and left its inputs alone.</summary>
        public float[] Run(float[] packedWeights)
        {
            var bias = new float[Rows]; // rounded up to whole panels, as the binder's bias region is
            Bias.CopyTo(bias, 0);
            int count = Case.Out * Pixels;
            var destination = Slack.Poisoned(count);
            var inputs = new[] { Source, Second, Tail, Residual }.Where(b => b != null).Select(b => (b!, b!.ToArray())).ToArray();
            fixed (float* w = packedWeights, b = bias, x = Source, s2 = Second, t = Tail, r = Residual, d = destination)
            {
                Gemm.Conv(w, b, x, s2, t, t == null ? 0 : Case.TailChannel, d, r, Case.Relu, Case.Out, Case.In,
                    Case.Height, Case.Width, Case.Kernel, Case.Stride, Case.Padding, OutHeight, OutWidth);
            }
            Slack.AssertUntouched(destination, count, Name);
            foreach (var (buffer, before) in inputs) Assert.True(buffer.AsSpan().SequenceEqual(before), $"{Name}: an input buffer was written");
            return destination.AsSpan(0, count).ToArray();
        }

        /// <summary>
        /// Compares with PyTorch; returns the largest |ours − PyTorch| / bound and a description of that output.
        /// <para>
        /// The bound. The fixture's expected value is conv2d computed by PyTorch in float64 from the very float32
        /// operands we use (input + second summed in float32 first, as the network's <c>sp + spx[i]</c> is), then
        /// rounded once: it is within half an ulp of the exact result. Ours sums the K products in float32, in an
        /// order set by the tiling, the 128-deep slices and the thread split, then adds bias and residual, then ReLU.
        /// Each float32 rounding errs by at most u = 2^-24 times the magnitude of the value rounded, and every
        /// product and partial sum of output (c, y, x) is at most
        /// <c>S_c = Σ_i |W[c, i]| · max|x| + |bias[c]| + max|residual|</c>: K roundings of the running sum, at most
        /// one per product (Σ u·|w·x| ≤ u·S_c, none with FMA), bias and residual add one each, the expected value's
        /// own rounding one more, so |ours − PyTorch| ≤ (K + 4)·u·S_c to first order; the second-order terms
        /// are below K·u ≈ 2e-5 of that, and ReLU never widens a gap. The bound is (K + 6)·u·S_c, whatever the
        /// summation order. For K = 234 it is about 1.4e-5·S_c, while one wrong or missing tap moves an output by
        /// |w·x|, typically S_c / 5K ≈ 1e-3·S_c and several times that at its largest (<see cref="BoundCatchesOneMissingTap"/>).
        /// </para>
        /// </summary>
        public (double Ratio, string Worst) Compare(float[] actual)
        {
            Assert.Equal(Expected.Length, actual.Length);
            int k = Depth, pixels = Pixels;
            double maxInput = MaxAbs(Source, Case.TailChannel < 0 ? Case.In : Case.TailChannel, Case.Height * Case.Width);
            if (Tail != null) maxInput = Math.Max(maxInput, MaxAbs(Tail, Case.In - Case.TailChannel, Case.Height * Case.Width));
            if (Second != null)
            {
                maxInput = 0;
                for (int i = 0; i < Case.In * Case.Height * Case.Width; i++) maxInput = Math.Max(maxInput, Math.Abs(Source[i] + Second[i]));
            }
            double maxResidual = Residual == null ? 0 : MaxAbs(Residual, Case.Out, pixels);
            double worstRatio = -1;
            string worst = "no output";
            for (int c = 0; c < Case.Out; c++)
            {
                double weights = 0;
                for (int i = 0; i < k; i++) weights += Math.Abs(Weight[c * k + i]);
                double scale = weights * maxInput + Math.Abs(Bias[c]) + maxResidual;
                double bound = (k + 6) * Math.ScaleB(1.0, -24) * scale;
                for (int j = 0; j < pixels; j++)
                {
                    int at = c * pixels + j;
                    double diff = float.IsFinite(actual[at]) ? Math.Abs((double)actual[at] - Expected[at]) : double.PositiveInfinity;
                    double ratio = diff / bound;
                    if (ratio > worstRatio)
                    {
                        worstRatio = ratio;
                        worst = $"output [{c}, {j / OutWidth}, {j % OutWidth}] = {actual[at]:R}, PyTorch {Expected[at]:R}: " +
                            $"|diff| {diff:E2} is {ratio:F3} × the bound (K + 6)·2^-24·S = {bound:E2} (K = {k}, S = {scale:F2})";
                    }
                }
            }
            return (worstRatio, worst);
        }

        private static double MaxAbs(float[] buffer, int channels, int plane)
        {
            double max = 0;
            for (int i = 0; i < channels * plane; i++) max = Math.Max(max, Math.Abs(buffer[i]));
            return max;
        }
    }
}

/// <summary>
/// Activation buffers as the kernels require them: <see cref="Gemm.ReadSlack"/> readable floats after the end. The
/// slack holds a NaN with a payload no arithmetic produces, so a slack lane that leaks into a result shows up as
/// a NaN, and a store past the end as a changed payload.
/// </summary>
internal static class Slack
{
    public static readonly float Poison = BitConverter.Int32BitsToSingle(0x7FC0_0BAD);

    /// <summary><paramref name="data"/>, then the poisoned slack.</summary>
    public static float[] Padded(float[] data)
    {
        var buffer = new float[data.Length + Gemm.ReadSlack];
        data.CopyTo(buffer, 0);
        buffer.AsSpan(data.Length).Fill(Poison);
        return buffer;
    }

    /// <summary>A destination of <paramref name="count"/> floats and its slack, all poisoned: nothing may be read before it is written.</summary>
    public static float[] Poisoned(int count)
    {
        var buffer = new float[count + Gemm.ReadSlack];
        buffer.AsSpan().Fill(Poison);
        return buffer;
    }

    public static void AssertUntouched(float[] buffer, int count, string what)
    {
        for (int i = count; i < buffer.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(buffer[i]) == BitConverter.SingleToInt32Bits(Poison),
                $"{what}: the kernel wrote {buffer[i]:R} at float {i - count} past the end of its destination");
        }
    }
}
