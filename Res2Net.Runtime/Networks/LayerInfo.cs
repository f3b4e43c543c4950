namespace Res2Net.Runtime.Networks;

/// <summary>
/// One layer of a compiled network's CPU forward, as the generator lowered it: the PyTorch module it runs, what it
/// computes (<see cref="Kind"/> and the steps fused into it, <see cref="Fusions"/> and <see cref="FusedModules"/>), its
/// shapes for one image, its cost as mmcv counts it (<see cref="Flops"/> includes the fused BatchNorm, ReLU and pools),
/// the multiply-adds its kernel really does (<see cref="MultiplyAdds"/>) and its schedule for each vector width. The
/// profiler, <c>res2net info</c> and the activation figures read this table instead of deriving any of it.
/// </summary>
public sealed record LayerInfo(
    string Module,
    string Description,
    LayerKind Kind,
    LayerFusions Fusions,
    IReadOnlyList<string> FusedModules,
    IReadOnlyList<int> InputShape,
    IReadOnlyList<int> OutputShape,
    long Params,
    long Flops,
    long MultiplyAdds,
    int Kernel = 0,
    int Stride = 0,
    int Padding = 0,
    int TailChannel = 0,
    int TailStride = 1,
    LayerSchedule? Avx512 = null,
    LayerSchedule? Avx2 = null)
{
    /// <summary>The schedule that runs on this machine.</summary>
    public LayerSchedule? ScheduleHere => Kernels.VectorWidth.Avx512 ? Avx512 : Avx2;
}

/// <summary>What runs a layer.</summary>
public enum LayerKind
{
    /// <summary>A conv with its BatchNorm folded in (and whatever else <see cref="LayerInfo.Fusions"/> lists).</summary>
    Conv,
    MaxPool,

    /// <summary>The Bottle2neck's <c>pool</c> (padding counted).</summary>
    AvgPool,

    /// <summary>avg_down's shortcut pool (ceil mode, padding not counted).</summary>
    AvgPoolCeil,
    GlobalAveragePool,
    Linear,
}

/// <summary>The graph ops a layer absorbed.</summary>
[Flags]
public enum LayerFusions
{
    None = 0,

    /// <summary>The conv's BatchNorm, folded into the packed weights and bias.</summary>
    BatchNorm = 1,

    /// <summary>Res2Net's hierarchical <c>sp + spx[i]</c>, summed as the input is read.</summary>
    InputSum = 2,

    /// <summary>The concat's last part read in place (channels from <see cref="LayerInfo.TailChannel"/> on).</summary>
    ConcatTail = 4,

    /// <summary>The Bottle2neck's <c>out += identity</c>, in the epilogue.</summary>
    Residual = 8,

    /// <summary>ReLU, in the epilogue.</summary>
    Relu = 16,

    /// <summary>avg_down's <c>AvgPool2d(1, 1)</c> at stride 1, which is the identity.</summary>
    IdentityPool = 32,

    /// <summary>
    /// A stage block's shortcut (<c>downsample</c>: 1×1 conv and BatchNorm) and the residual add, in conv3's GEMM: the
    /// block's input is read as channels from <see cref="LayerInfo.TailChannel"/> on, at <see cref="LayerInfo.TailStride"/>.
    /// </summary>
    ShortcutConv = 64,
}

/// <summary>
/// How a conv runs on one vector width, as the generator decided: the algorithm (<c>direct</c> or <c>gemm</c>), a
/// sentence saying tiles, B and the thread split, and the exact scratch its kernel asks for (floats): on the calling
/// thread, and on each thread that takes part.
/// </summary>
public sealed record LayerSchedule(string Algorithm, string Description, long SharedScratchFloats, long ThreadScratchFloats);
