namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>
    /// A fused conv's signature: what the kernel needs to know at compile time. Two layers with equal signatures share one
    /// emitted layer type and so one JIT-compiled kernel (NN-512's one function per distinct layer signature).
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
        bool Relu)
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
