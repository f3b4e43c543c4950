using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>
    /// Where a CPU layer reads or writes: the caller's image or logits, or an arena buffer at an offset (floats). A view
    /// is its buffer plus a channel offset, so it is named by the buffer and the offset inside it.
    /// </summary>
    internal sealed record Operand(OperandKind Kind, int Buffer, int Offset, int Within, string Label)
    {
        public static Operand Image { get; } = new(OperandKind.Input, -1, 0, 0, "the image");

        public static Operand Logits { get; } = new(OperandKind.Logits, -1, 0, 0, "the logits");
    }

    internal enum OperandKind { Input, Arena, Logits }

    /// <summary>A conv operand by the kernel's name for it (<c>Source</c>, <c>Second</c>, <c>Tail</c>, <c>Destination</c>, <c>Residual</c>).</summary>
    internal sealed record Binding(string Role, Operand Operand);

    /// <summary>One step of the CPU forward: a graph node (with whatever was fused into it) and what it runs on.</summary>
    internal abstract record CpuLayer(Node Node, string Method);

    /// <summary>A fused conv: its signature, its operands, its packed weights and a schedule per vector width.</summary>
    internal sealed record CpuConv(
        Node Node,
        string Method,
        ConvShape Shape,
        EquatableArray<Binding> Operands,
        int WeightOffset,
        int BiasOffset,
        ConvSchedule Avx512,
        ConvSchedule Avx2) : CpuLayer(Node, Method);

    /// <summary>A max or average pool.</summary>
    internal sealed record CpuPool(Node Node, string Method, int Channels, int Height, int Width, int OutHeight, int OutWidth,
        Operand Source, Operand Destination) : CpuLayer(Node, Method);

    /// <summary>The neck's global average pool.</summary>
    internal sealed record CpuGlobalPool(Node Node, string Method, int Channels, int Pixels, Operand Source, Operand Destination) : CpuLayer(Node, Method);

    /// <summary>The head's <c>fc</c>, into the caller's logits.</summary>
    internal sealed record CpuLinear(Node Node, string Method, int InFeatures, int OutFeatures, Operand Source, int WeightOffset, int BiasOffset)
        : CpuLayer(Node, Method);
}
