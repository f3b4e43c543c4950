using System.Linq;

namespace Res2Net.Generator.Graph
{
    /// <summary>
    /// A node that a pass folded into another: the fused node keeps the list, in the order the steps run, so a lowering
    /// reads what to do from data instead of from a parameter per fusion. <see cref="Module"/> is the absorbed node's.
    /// </summary>
    internal abstract record Fusion(string Module);

    /// <summary>The conv's BatchNorm, folded into its weights and bias when they are packed (key prefix <see cref="Key"/>).</summary>
    internal sealed record FoldedBatchNorm(string Module, string Key) : Fusion(Module);

    /// <summary>Prologue: the conv reads <c>input + Value</c> (Res2Net's hierarchical <c>sp + spx[i]</c>), summed while its input is read.</summary>
    internal sealed record InputSum(string Module, int Value) : Fusion(Module);

    /// <summary>Epilogue: <c>Value</c> is added to the result (the Bottle2neck's <c>out += identity</c>).</summary>
    internal sealed record ResidualAdd(string Module, int Value) : Fusion(Module);

    /// <summary>
    /// The Bottle2neck's shortcut conv (<c>downsample</c>: a 1×1 conv at <c>Conv.Attributes.Stride</c> with its own folded
    /// BatchNorm) computed inside conv3's GEMM, in place of the <see cref="ResidualAdd"/> of its output: the shortcut's
    /// input is read as more input channels (the node's last input, every <c>Stride</c>-th pixel), its weights are packed
    /// after conv3's and the two biases summed. <see cref="Module"/> is the residual add's; <see cref="Conv"/> is the
    /// absorbed downsample conv node, with its own fusions (its BatchNorm, an avg_down identity pool).
    /// </summary>
    internal sealed record ShortcutConv(string Module, Node Conv) : Fusion(Module)
    {
        /// <summary>The downsample conv's BatchNorm, which the binder folds into the shortcut's columns of the packed weights.</summary>
        public FoldedBatchNorm Norm => Conv.Fused.OfType<FoldedBatchNorm>().Single();
    }

    /// <summary>Epilogue: ReLU on the result.</summary>
    internal sealed record FusedRelu(string Module) : Fusion(Module);

    /// <summary>An <c>AvgPool2d(1, 1)</c> (avg_down at stride 1): the identity, dropped; kept here so its cost is not lost.</summary>
    internal sealed record IdentityPool(string Module) : Fusion(Module);
}
