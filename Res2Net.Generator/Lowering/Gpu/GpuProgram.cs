using Res2Net.Generator.Graph;
using Res2Net.Generator.Lowering.Cpu;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Lowering.Gpu
{
    /// <summary>
    /// A spec compiled for an ILGPU device: the same fused graph, arena placement and packed-weight offsets as its
    /// <see cref="CpuProgram"/> (the device arena holds one such arena per image of the batch, and the weights are the CPU
    /// binder's, uploaded as they are), with each layer's kernel and tiles. Equatable, like the CPU program.
    /// </summary>
    internal sealed record GpuProgram(
        NetworkSpec Spec,
        EquatableArray<GpuLayer> Layers,
        EquatableArray<GpuTap> Taps,
        int ArenaFloats,
        int PackedFloats,
        long Flops);

    /// <summary>A stage output, copied out of <see cref="Offset"/> right after layer <see cref="AfterLayer"/>.</summary>
    internal sealed record GpuTap(int Index, string Name, int AfterLayer, int Offset, int Elements);

    /// <summary>One kernel launch of the device forward: a graph node with whatever was fused into it.</summary>
    internal abstract record GpuLayer(Node Node, string Method);

    /// <summary>
    /// A fused conv as an implicit GEMM: its signature (compile-time constants), where it reads and writes (arena offsets;
    /// <see cref="FromImage"/>: the source is the caller's images), its packed weights and the tiles per accelerator kind.
    /// </summary>
    internal sealed record GpuConv(
        Node Node,
        string Method,
        ConvShape Shape,
        bool FromImage,
        int Source,
        int Second,
        int Tail,
        int Destination,
        int Residual,
        int Weights,
        int Bias,
        GpuTile Cuda,
        GpuTile Cpu) : GpuLayer(Node, Method);

    internal sealed record GpuPool(Node Node, string Method, PoolKind Kind, int Channels, int Height, int Width, int Kernel, int Stride, int Padding,
        int OutHeight, int OutWidth, int Source, int Destination) : GpuLayer(Node, Method);

    internal sealed record GpuGlobalPool(Node Node, string Method, int Channels, int Pixels, int Source, int Destination) : GpuLayer(Node, Method);

    internal sealed record GpuLinear(Node Node, string Method, int InFeatures, int OutFeatures, int Source, int Weights, int Bias) : GpuLayer(Node, Method);
}
