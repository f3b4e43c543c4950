namespace Res2Net.Generator.Model
{
    /// <summary>
    /// One step of the forward pass. <see cref="Module"/> is the PyTorch module path the step
    /// computes (e.g. <c>layer2.0.convs.3</c>), which the emitted method names in its comment.
    /// </summary>
    internal abstract record LayerOp(string Module, string Method, long Params, long Flops);

    /// <summary>
    /// A convolution with its BatchNorm folded in, then optionally the residual add and ReLU.
    /// <see cref="SecondSource"/> is Res2Net's hierarchical <c>sp + spx[i]</c>, summed while the
    /// input is gathered so it never needs a buffer of its own. <see cref="Tail"/> supplies the input
    /// channels from <see cref="TailChannel"/> on: a Bottle2neck's concat of its 3×3 outputs and the
    /// untouched last split, read from where each lies instead of copied together.
    /// </summary>
    internal sealed record ConvOp(
        string Module,
        string Method,
        long Params,
        long Flops,
        string Summary,
        string ConvKey,
        string? NormKey,
        int InChannels,
        int OutChannels,
        int Kernel,
        int Stride,
        int Padding,
        int InHeight,
        int InWidth,
        int OutHeight,
        int OutWidth,
        Operand Source,
        Operand? SecondSource,
        Operand? Tail,
        int TailChannel,
        Operand Destination,
        Operand? Residual,
        bool Relu,
        int WeightOffset,
        int BiasOffset) : LayerOp(Module, Method, Params, Flops)
    {
        public int GemmN => OutHeight * OutWidth;
    }

    internal enum PoolKind
    {
        /// <summary>Stem <c>MaxPool2d(3, 2, 1)</c>.</summary>
        Max,

        /// <summary>Bottle2neck <c>pool</c>: <c>AvgPool2d(3, stride, 1)</c>, padding counted in the divisor.</summary>
        AverageIncludePad,

        /// <summary>avg_down shortcut: <c>AvgPool2d(s, s, ceil_mode=True, count_include_pad=False)</c>.</summary>
        AverageCeilExcludePad,
    }

    internal sealed record PoolOp(
        string Module,
        string Method,
        long Flops,
        string Summary,
        PoolKind Kind,
        int Channels,
        int Kernel,
        int Stride,
        int Padding,
        int InHeight,
        int InWidth,
        int OutHeight,
        int OutWidth,
        Operand Source,
        Operand Destination) : LayerOp(Module, Method, 0, Flops);

    /// <summary>The neck: <c>GlobalAveragePooling</c> over each channel.</summary>
    internal sealed record GlobalPoolOp(
        string Module,
        string Method,
        long Flops,
        int Channels,
        int Height,
        int Width,
        Operand Source,
        Operand Destination) : LayerOp(Module, Method, 0, Flops);

    /// <summary>The head's <c>fc</c>.</summary>
    internal sealed record LinearOp(
        string Module,
        string Method,
        long Params,
        long Flops,
        string Key,
        int InFeatures,
        int OutFeatures,
        Operand Source,
        Operand Destination,
        int WeightOffset,
        int BiasOffset) : LayerOp(Module, Method, Params, Flops);
}
