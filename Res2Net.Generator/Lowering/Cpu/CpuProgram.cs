using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;
using Res2Net.Generator.Passes;

namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>
    /// A spec compiled for the CPU: the graph PyTorch runs (<see cref="Source"/>, for the exporter), the graph after the
    /// passes, where each buffer lives, and the layers with their schedules and packed-weight offsets. It is the model
    /// the emitter writes out, and equatable, so an unchanged spec is not emitted again.
    /// </summary>
    internal sealed record CpuProgram(
        NetworkSpec Spec,
        NetworkGraph Source,
        NetworkGraph Fused,
        Placement Placement,
        EquatableArray<CpuLayer> Layers,
        EquatableArray<StateDictEntry> StateDict,
        EquatableArray<BufferName> Buffers,
        EquatableArray<CpuTap> Taps,
        long Params,
        long Flops,
        int PackedFloats);

    /// <summary>A tensor the checkpoint must hold, with its exact shape.</summary>
    internal sealed record StateDictEntry(string Key, EquatableArray<int> Shape);

    /// <summary>An arena buffer as the generated code names it: a constant with its offset, shape and the layers it is live across.</summary>
    internal sealed record BufferName(int Value, string Name, int Offset, int Channels, int Height, int Width, string FirstWriter, string LastReader);
}

namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>A stage output <c>extract_feat</c> returns, copied out of <see cref="Source"/> right after layer <see cref="AfterLayer"/>.</summary>
    internal sealed record CpuTap(int Index, string Name, int AfterLayer, Operand Source, int Channels, int Height, int Width);
}
