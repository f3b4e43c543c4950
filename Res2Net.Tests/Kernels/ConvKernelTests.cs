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
    /// over them, or to join a concat tail. k×k convs with "same" padding and neither residual nor tail go to
    /// <c>DirectConv</c> (shifted planes instead of the gathered matrix; on AVX2 too since 2026-12-01), which splits
    /// alike; the cases with a residual keep the gathered path, so each geometry is covered on both.
    /// </summary>
    private static readonly Dictionary<string, ConvShape> s_cases = new()
    {
        // 3×3 stride 2 padding 1: the first conv of each stage's first block.
        ["k3s2-c5-13x17-o7"] = new(5, 13, 17, 7, 3, 2, 1, Relu: true),                   // 7×9 out, one thread
        ["k3s2-c7-56x56-o6"] = new(7, 56, 56, 6, 3, 2, 1, Residual: true),               // 28×28 out, column split
        ["k3s2-c16-14x14-o36"] = new(16, 14, 14, 36, 3, 2, 1, Residual: true, Relu: true), // 7×7 out, packed, K = 144
        ["k3s2-c16-13x13-o64"] = new(16, 13, 13, 64, 3, 2, 1, Relu: true),               // 7×7 out, panel split
        ["k3s2-c2-34x65-o5"] = new(2, 34, 65, 5, 3, 2, 1, Relu: true),                   // 17×33 out
        ["k3s2-c4-10x9-o10"] = new(4, 10, 9, 10, 3, 2, 1),                               // 5×5 out
        ["k3s2-c5-40x37-o16"] = new(5, 40, 37, 16, 3, 2, 1),                             // 20×19 out, column split
        ["k3s2-sum-c3-9x11-o5"] = new(3, 9, 11, 5, 3, 2, 1, Summed: true, Relu: true),   // strided gather of a sum
        // 3×3 stride 1 padding 1 with the hierarchical add sp + spx[i].
        ["k3s1-sum-c8-13x11-o8"] = new(8, 13, 11, 8, 3, 1, 1, Summed: true, Relu: true),
        ["k3s1-sum-c26-16x17-o26"] = new(26, 16, 17, 26, 3, 1, 1, Summed: true, Relu: true), // column split, K = 234
        ["k3s1-sum-c14-7x7-o14"] = new(14, 7, 7, 14, 3, 1, 1, Summed: true, Residual: true),
        ["k3s1-sum-c16-7x9-o40"] = new(16, 7, 9, 40, 3, 1, 1, Summed: true, Residual: true),  // panel split
        ["k3s1-sum-c6-5x3-o10"] = new(6, 5, 3, 10, 3, 1, 1, Summed: true, Relu: true),
        ["k3s1-sum-c16-7x7-o48"] = new(16, 7, 7, 48, 3, 1, 1, Summed: true, Relu: true),  // panel split
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
        for (int co = 0; co < layer.Shape.Out; co++) weights[co / Gemm.RowBlock * Gemm.RowBlock * layer.Shape.Depth + co % Gemm.RowBlock] = 0f;

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

    /// <summary>
    /// The reference <see cref="SpecializedConvTests"/> holds its cases to, against PyTorch: both compute in float64 from the
    /// same float32 operands, each within (K + 2)·2^-53·S_c of the exact sum (K + 1 additions and the products' own
    /// roundings, <see cref="ConvBound"/>'s argument at float64), and PyTorch's is then rounded to float32, within
    /// 2^-24·|PyTorch|·(1 + 2^-23); one more (K + 2)·2^-53·S_c covers the second-order terms with room to spare. About
    /// 10^-13·S_c for these K, so a wrong tap, sign or index in the reference (10^-3·S_c and up) cannot hide.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ScalarReferenceEqualsPyTorch(string name)
    {
        var layer = ConvLayer.Load(name, s_cases[name]);
        var shape = layer.Shape;

        var reference = ScalarConv.Run(shape, layer.Weight, layer.Bias, layer.Source, layer.Second, layer.Tail, layer.Residual);

        double maxInput = ConvBound.MaxInput(shape, layer.Source, layer.Second, layer.Tail);
        double maxResidual = layer.Residual == null ? 0 : ConvBound.MaxAbs(layer.Residual, shape.Out * shape.Pixels);
        int k = shape.Depth;
        for (int c = 0; c < shape.Out; c++)
        {
            double scale = layer.Weight.AsSpan(c * k, k).ToArray().Sum(w => Math.Abs((double)w)) * maxInput + Math.Abs(layer.Bias[c]) + maxResidual;
            for (int j = 0; j < shape.Pixels; j++)
            {
                int at = c * shape.Pixels + j;
                double pytorch = layer.Expected[at];
                double bound = Math.ScaleB(Math.Abs(pytorch), -24) * (1 + Math.ScaleB(1.0, -23)) + 3 * (k + 2) * Math.ScaleB(scale, -53);
                Assert.True(Math.Abs(reference[at] - pytorch) <= bound,
                    $"{name}: output {at}: scalar reference {reference[at]:R}, PyTorch {pytorch:R}, bound {bound:E2}");
            }
        }
    }

    /// <summary>One conv fixture: its inputs in slack-padded buffers, and what PyTorch computed.</summary>
    private sealed class ConvLayer
    {
        public required ConvShape Shape { get; init; }
        public required string Name { get; init; }
        public required float[] Weight { get; init; }
        public required float[] Bias { get; init; }
        public required float[] Source { get; init; }
        public float[]? Second { get; init; }
        public float[]? Tail { get; init; }
        public float[]? Residual { get; init; }
        public required float[] Expected { get; init; }

        public static ConvLayer Load(string name, ConvShape c)
        {
            var arrays = Npz.Read(Fixtures.Path("kernels", $"conv.{name}.npz"));
            var geometry = new float[] { c.In, c.Height, c.Width, c.Out, c.Kernel, c.Stride, c.Padding, c.TailChannel > 0 ? c.TailChannel : -1,
                c.Summed ? 1 : 0, c.Residual ? 1 : 0, c.Relu ? 1 : 0 };
            Assert.Equal(geometry, arrays["geometry"].Data);
            int outHeight = c.OutHeight, outWidth = c.OutWidth;
            Assert.Equal(new[] { c.SourceChannels, c.Height, c.Width }, arrays["input"].Shape);
            Assert.Equal(new[] { c.Out, c.In, c.Kernel, c.Kernel }, arrays["weight"].Shape);
            Assert.Equal(new[] { c.Out }, arrays["bias"].Shape);
            Assert.Equal(new[] { c.Out, outHeight, outWidth }, arrays["expected"].Shape);
            Assert.Equal(c.TailChannel > 0, arrays.ContainsKey("tail"));
            Assert.Equal(c.Summed, arrays.ContainsKey("second"));
            Assert.Equal(c.Residual, arrays.ContainsKey("residual"));
            float[]? Optional(string key, int[] shape)
            {
                if (!arrays.TryGetValue(key, out var array)) return null;
                Assert.Equal(shape, array.Shape);
                return Slack.Padded(array.Data);
            }
            return new ConvLayer
            {
                Shape = c, Name = name,
                Weight = arrays["weight"].Data, Bias = arrays["bias"].Data, Expected = arrays["expected"].Data,
                Source = Slack.Padded(arrays["input"].Data),
                Second = Optional("second", [c.In, c.Height, c.Width]),
                Tail = Optional("tail", [c.In - c.SourceChannels, c.Height, c.Width]),
                Residual = Optional("residual", [c.Out, outHeight, outWidth]),
            };
        }

        public float[] PackedWeights() => Shape.PackedWeights(Weight);

        /// <summary>Runs the kernel; checks it wrote nothing past the destination and left its inputs alone.</summary>
        public float[] Run(float[] packedWeights)
        {
            var c = Shape;
            var bias = c.PaddedBias(Bias);
            int count = c.Out * c.Pixels;
            var destination = Slack.Poisoned(count);
            var inputs = new[] { Source, Second, Tail, Residual }.Where(b => b != null).Select(b => (b!, b!.ToArray())).ToArray();
            fixed (float* w = packedWeights, b = bias, x = Source, s2 = Second, t = Tail, r = Residual, d = destination)
            {
                Gemm.Conv(w, b, x, s2, t, t == null ? 0 : c.TailChannel, d, r, c.Relu, c.Out, c.In,
                    c.Height, c.Width, c.Kernel, c.Stride, c.Padding, c.OutHeight, c.OutWidth);
            }
            Slack.AssertUntouched(destination, count, Name);
            foreach (var (buffer, before) in inputs) Assert.True(buffer.AsSpan().SequenceEqual(before), $"{Name}: an input buffer was written");
            return destination.AsSpan(0, count).ToArray();
        }

        /// <summary>Compares with PyTorch within <see cref="ConvBound"/>; returns the largest |ours − PyTorch| / bound and that output.</summary>
        public (double Ratio, string Worst) Compare(float[] actual)
        {
            Assert.Equal(Expected.Length, actual.Length);
            double maxInput = ConvBound.MaxInput(Shape, Source, Second, Tail);
            double maxResidual = Residual == null ? 0 : ConvBound.MaxAbs(Residual, Shape.Out * Shape.Pixels);
            return ConvBound.Compare(Shape, Weight, Bias, maxInput, maxResidual, actual, at => Expected[at], "PyTorch");
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
