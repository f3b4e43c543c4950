using Res2Net.Runtime.Kernels;

namespace Res2Net.Tests.Kernels;

/// <summary>
/// One conv layer's geometry and fusions, as the kernel tests describe it: <see cref="In"/> input channels of
/// <see cref="Height"/> × <see cref="Width"/>, of which those from <see cref="TailChannel"/> on (when it is above 0)
/// come from a second buffer (a concat read in place); <see cref="Summed"/>: the input is source + second
/// (Res2Net's <c>sp + spx[i]</c>); then bias, the residual when there is one, and ReLU.
/// </summary>
internal sealed record ConvShape(int In, int Height, int Width, int Out, int Kernel, int Stride, int Padding,
    int TailChannel = 0, bool Summed = false, bool Residual = false, bool Relu = false, int TailStride = 1, int TailHeight = 0, int TailWidth = 0)
{
    /// <summary>
    /// The tail's map: the conv's own (0 in <see cref="TailHeight"/>), or a larger one read every <see cref="TailStride"/>-th
    /// pixel (a stage block's shortcut input, the shortcut conv folded into conv3).
    /// </summary>
    public int TailRows => TailHeight == 0 ? Height : TailHeight;

    public int TailColumns => TailWidth == 0 ? Width : TailWidth;

    /// <summary>Where output pixel (y, x) reads the tail: (y·s, x·s) of its map.</summary>
    public int TailPixel(int y, int x) => y * TailStride * TailColumns + x * TailStride;

    /// <summary>PyTorch's conv2d output size.</summary>
    public int OutHeight => (Height + 2 * Padding - Kernel) / Stride + 1;

    public int OutWidth => (Width + 2 * Padding - Kernel) / Stride + 1;

    /// <summary>K: the inputs of one output, in·k·k.</summary>
    public int Depth => In * Kernel * Kernel;

    public int Pixels => OutHeight * OutWidth;

    /// <summary>Channels read from the source buffer (the others from the tail).</summary>
    public int SourceChannels => TailChannel > 0 ? TailChannel : In;

    /// <summary>Output channels rounded up to whole panels of <see cref="Gemm.RowBlock"/>, as the packed weights and bias are.</summary>
    public int Rows => (Out + Gemm.RowBlock - 1) / Gemm.RowBlock * Gemm.RowBlock;

    /// <summary>
    /// PyTorch's weights [out, in, k, k] as <c>WeightBinder.ConvBatchNorm</c> lays them out (without a BatchNorm to
    /// fold): output channels in panels of <see cref="Gemm.RowBlock"/>, each panel holding, for every one of the K
    /// inputs in PyTorch's [in, kh, kw] order, its channels' weights side by side; rows past the last channel are zero.
    /// </summary>
    public float[] PackedWeights(float[] weight)
    {
        int k = Depth;
        var packed = new float[Rows * k];
        for (int co = 0; co < Out; co++)
        {
            int panel = co / Gemm.RowBlock * Gemm.RowBlock * k, lane = co % Gemm.RowBlock;
            for (int i = 0; i < k; i++) packed[panel + i * Gemm.RowBlock + lane] = weight[co * k + i];
        }
        return packed;
    }

    /// <summary>The bias rounded up to whole panels, as the binder's bias region is.</summary>
    public float[] PaddedBias(float[] bias)
    {
        var padded = new float[Rows];
        bias.AsSpan(0, Out).CopyTo(padded);
        return padded;
    }

    public override string ToString() =>
        $"{Kernel}×{Kernel} s{Stride} p{Padding}, {In}×{Height}×{Width} → {Out}×{OutHeight}×{OutWidth}" +
        $"{(Summed ? ", summed" : "")}{(TailChannel > 0 ? $", tail from {TailChannel}" : "")}{(TailStride > 1 ? $" ({TailRows}×{TailColumns} at stride {TailStride})" : "")}{(Residual ? ", residual" : "")}{(Relu ? ", relu" : "")}";
}
