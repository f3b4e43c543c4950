namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>
    /// A fused conv's signature: what the kernel needs to know at compile time. Two layers with equal signatures share one
    /// emitted layer type and so one JIT-compiled kernel (NN-512's one function per distinct layer signature).
    /// Input channels from <see cref="TailChannel"/> on come from a second buffer of <see cref="TailHeight"/> ×
    /// <see cref="TailWidth"/>, read every <see cref="TailStride"/>-th pixel: a normal block's last split (stride 1, the
    /// conv's own map), or a stage block's shortcut input (<see cref="Graph.ShortcutConv"/>, at the shortcut's stride).
    /// </summary>
    internal sealed record ConvShape(
        int OutChannels,
        int InChannels,
        int Height,
        int Width,
        int Kernel,
        int Stride,
        int Padding,
        int OutHeight,
        int OutWidth,
        bool Summed,
        int TailChannel,
        bool Residual,
        bool Relu,
        int TailStride = 1,
        int TailHeight = 0,
        int TailWidth = 0)
    {
        /// <summary>Output pixels: the GEMM's n.</summary>
        public int Pixels => OutHeight * OutWidth;

        /// <summary>Inputs per output: the GEMM's k.</summary>
        public long Depth => (long)InChannels * Kernel * Kernel;

        public long MultiplyAdds => (long)OutChannels * Depth * Pixels;

        /// <summary>Panels of 4 output channels (the packed weights' row block).</summary>
        public int Panels => (OutChannels + ConvScheduler.RowBlock - 1) / ConvScheduler.RowBlock;
    }
}
