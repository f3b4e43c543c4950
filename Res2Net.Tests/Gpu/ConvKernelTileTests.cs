using ILGPU;
using ILGPU.Runtime;
using Res2Net.Gpu;
using Res2Net.Gpu.Kernels;
using Res2Net.Tests.Forward;
using Xunit;

namespace Res2Net.Tests.Gpu;

/// <summary>
/// The conv kernel under several tiles on ILGPU's CPU accelerator, against a direct convolution in double. The networks
/// run <see cref="CpuTile"/> there (one thread per group); these tiles have 16 threads, cut like the CUDA ones (square,
/// and wide in columns as <see cref="CudaNarrowTile"/>), so that what only many threads per group exercise — the
/// cooperative loads of the shared tiles, each thread's rows and columns, the barriers between loading and reading —
/// is checked in CI as CUDA runs it. The shapes have edges no tile divides: output channels past the last full panel,
/// columns past the last tile and across two images, a depth not a multiple of the step, a concat's tail read in place,
/// a shortcut's input read at stride 2, and the hierarchical sum, residual and ReLU.
/// </summary>
public class ConvKernelTileTests
{
    private struct SixteenSquare : ITile
    {
        public readonly int ThreadsX => 4;
        public readonly int ThreadsY => 4;
        public readonly int DepthStep => 8;
    }

    private struct SixteenWide : ITile
    {
        public readonly int ThreadsX => 8;
        public readonly int ThreadsY => 2;
        public readonly int DepthStep => 8;
    }

    /// <summary>A 3×3 on a split: sp + spx[i] gathered, residual and ReLU in the epilogue.</summary>
    private struct Summed3x3 : IConvShape
    {
        public readonly int OutChannels => 18;
        public readonly int InChannels => 10;
        public readonly int Height => 9;
        public readonly int Width => 9;
        public readonly int Kernel => 3;
        public readonly int Stride => 1;
        public readonly int Padding => 1;
        public readonly int OutHeight => 9;
        public readonly int OutWidth => 9;
        public readonly bool Summed => true;
        public readonly int TailChannel => 0;
        public readonly int TailStride => 1;
        public readonly int TailHeight => 9;
        public readonly int TailWidth => 9;
        public readonly bool Residual => true;
        public readonly bool Relu => true;
    }

    /// <summary>A strided 3×3 whose last input channels come from a concat's tail, read in place.</summary>
    private struct StridedTail3x3 : IConvShape
    {
        public readonly int OutChannels => 7;
        public readonly int InChannels => 12;
        public readonly int Height => 11;
        public readonly int Width => 10;
        public readonly int Kernel => 3;
        public readonly int Stride => 2;
        public readonly int Padding => 1;
        public readonly int OutHeight => 6;
        public readonly int OutWidth => 5;
        public readonly bool Summed => false;
        public readonly int TailChannel => 9;
        public readonly int TailStride => 1;
        public readonly int TailHeight => 11;
        public readonly int TailWidth => 10;
        public readonly bool Residual => false;
        public readonly bool Relu => false;
    }

    /// <summary>
    /// conv3 with a stage block's shortcut conv folded in: a 1×1 whose last input channels are the block's input, a 9×8
    /// map read at stride 2 (odd and even sizes, as PyTorch's 1×1 stride-2 conv takes pixels 0, 2, … of each).
    /// </summary>
    private struct ShortcutTail1x1 : IConvShape
    {
        public readonly int OutChannels => 10;
        public readonly int InChannels => 7;
        public readonly int Height => 5;
        public readonly int Width => 4;
        public readonly int Kernel => 1;
        public readonly int Stride => 1;
        public readonly int Padding => 0;
        public readonly int OutHeight => 5;
        public readonly int OutWidth => 4;
        public readonly bool Summed => false;
        public readonly int TailChannel => 4;
        public readonly int TailStride => 2;
        public readonly int TailHeight => 9;
        public readonly int TailWidth => 8;
        public readonly bool Residual => false;
        public readonly bool Relu => true;
    }

    [Fact]
    public void SummedConvGivesTheDirectConvolutionUnderEveryTile()
    {
        Check<Summed3x3, CpuTile>();
        Check<Summed3x3, SixteenSquare>();
        Check<Summed3x3, SixteenWide>();
    }

    [Fact]
    public void StridedConvWithATailGivesTheDirectConvolutionUnderEveryTile()
    {
        Check<StridedTail3x3, CpuTile>();
        Check<StridedTail3x3, SixteenSquare>();
        Check<StridedTail3x3, SixteenWide>();
    }

    [Fact]
    public void ConvWithAShortcutTailAtStrideTwoGivesTheDirectConvolutionUnderEveryTile()
    {
        Check<ShortcutTail1x1, CpuTile>();
        Check<ShortcutTail1x1, SixteenSquare>();
        Check<ShortcutTail1x1, SixteenWide>();
    }

    /// <summary>
    /// One launch over a batch of two: the arena holds, per image, the source, the second operand (or the tail), the
    /// residual and the destination; the weights are packed as the CPU binder packs them (panels of four output
    /// channels, input-major within a panel) and followed by the bias.
    /// </summary>
    private static void Check<TShape, TTile>() where TShape : struct, IConvShape where TTile : struct, ITile
    {
        const int batch = 2;
        TShape s = default;
        int depth = s.InChannels * s.Kernel * s.Kernel, plane = s.Height * s.Width, pixels = s.OutHeight * s.OutWidth;
        int sourceFloats = s.InChannels * plane, outFloats = s.OutChannels * pixels;
        int second = sourceFloats, residual = 2 * sourceFloats, destination = residual + outFloats;
        int imageFloats = destination + outFloats + 5; // not a multiple of anything
        int panels = (s.OutChannels + 3) / 4, bias = panels * 4 * depth;

        var random = new Random(7);
        var arena = new float[batch * imageFloats];
        for (int i = 0; i < arena.Length; i++) arena[i] = -1f + 2f * random.NextSingle();
        var weights = new float[bias + s.OutChannels];
        for (int i = 0; i < weights.Length; i++) weights[i] = -0.5f + random.NextSingle();
        for (int co = s.OutChannels; co < panels * 4; co++)
            for (int k = 0; k < depth; k++) weights[(co >> 2) * 4 * depth + 4 * k + (co & 3)] = 0; // the binder zero-pads the last panel

        // The tail of a concat lives at Tail; with no tail the kernel reads Second for the sum.
        var o = new ConvOperands
        {
            Batch = batch, ImageFloats = imageFloats, Source = 0, SourceImage = imageFloats, Second = second,
            Tail = second - s.TailChannel * plane, Destination = destination, Residual = residual, Weights = 0, Bias = bias,
        };
        var expected = Direct(s, arena, weights, o);

        var accelerator = DeviceAccelerators.Get(Res2Net.Gpu.Device.IlgpuCpu).Accelerator;
        var kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvOperands>(ConvKernel.Run<TShape, TTile>);
        using var arenaBuffer = accelerator.Allocate1D(arena);
        using var weightBuffer = accelerator.Allocate1D(weights);
        TTile tile = default;
        var (x, y) = ConvKernel.Groups<TShape, TTile>(batch);
        kernel(accelerator.DefaultStream, new KernelConfig(new Index2D(x, y), new Index2D(tile.ThreadsX * tile.ThreadsY, 1)),
            arenaBuffer.View, arenaBuffer.View, weightBuffer.View, o);
        accelerator.Synchronize();
        var actual = arenaBuffer.GetAsArray1D();

        double scale = expected.Max(Math.Abs);
        for (int n = 0; n < batch; n++)
        {
            for (int i = 0; i < outFloats; i++)
            {
                double want = expected[n * outFloats + i], got = actual[n * imageFloats + destination + i];
                Assert.True(Math.Abs(got - want) <= Tolerances.ReferenceRelative * scale,
                    $"{typeof(TShape).Name} with {typeof(TTile).Name}: image {n}, channel {i / pixels}, pixel {i % pixels}: {got} instead of {want:G7}");
            }
            // Nothing else of the image was written.
            for (int i = 0; i < imageFloats; i++)
            {
                if (i >= destination && i < destination + outFloats) continue;
                Assert.True(actual[n * imageFloats + i] == arena[n * imageFloats + i], $"{typeof(TShape).Name} with {typeof(TTile).Name}: image {n} float {i} was overwritten");
            }
        }
    }

    /// <summary>The fused conv, term by term in double: out = relu(bias + Σ W · (x [+ second]) [+ residual]).</summary>
    private static double[] Direct(IConvShape s, float[] arena, float[] weights, ConvOperands o)
    {
        int depth = s.InChannels * s.Kernel * s.Kernel, plane = s.Height * s.Width, pixels = s.OutHeight * s.OutWidth;
        var result = new double[o.Batch * s.OutChannels * pixels];
        for (int n = 0; n < o.Batch; n++)
        {
            int image = n * o.ImageFloats;
            for (int co = 0; co < s.OutChannels; co++)
            {
                for (int oy = 0; oy < s.OutHeight; oy++)
                {
                    for (int ox = 0; ox < s.OutWidth; ox++)
                    {
                        double sum = weights[o.Bias + co];
                        for (int ci = 0; ci < s.InChannels; ci++)
                        {
                            for (int ky = 0; ky < s.Kernel; ky++)
                            {
                                for (int kx = 0; kx < s.Kernel; kx++)
                                {
                                    int iy = oy * s.Stride - s.Padding + ky, ix = ox * s.Stride - s.Padding + kx;
                                    if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width) continue;
                                    int at = iy * s.Width + ix;
                                    double v = s.TailChannel > 0 && ci >= s.TailChannel
                                        ? arena[image + o.Tail + (ci - s.TailChannel) * s.TailHeight * s.TailWidth + iy * s.TailStride * s.TailWidth + ix * s.TailStride]
                                        : arena[image + o.Source + ci * plane + at] + (s.Summed ? arena[image + o.Second + ci * plane + at] : 0.0);
                                    int k = (ci * s.Kernel + ky) * s.Kernel + kx;
                                    sum += weights[o.Weights + (co >> 2) * 4 * depth + 4 * k + (co & 3)] * v;
                                }
                            }
                        }
                        int p = oy * s.OutWidth + ox;
                        if (s.Residual) sum += arena[image + o.Residual + co * pixels + p];
                        if (s.Relu) sum = Math.Max(sum, 0);
                        result[(n * s.OutChannels + co) * pixels + p] = sum;
                    }
                }
            }
        }
        return result;
    }
}
