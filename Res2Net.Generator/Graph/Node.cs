using Res2Net.Generator.Model;

namespace Res2Net.Generator.Graph
{
    /// <summary>
    /// One op of the graph. <see cref="Module"/> is the PyTorch module it runs (<c>layer2.0.convs.3</c>), or for the ops that
    /// are not modules (add, split, cat) the block and what it computes. <see cref="Params"/> and <see cref="Flops"/> are
    /// counted as mmcv counts them, and follow the node into whatever a pass fuses it with.
    /// </summary>
    internal sealed record Node(
        OpKind Kind,
        string Module,
        EquatableArray<int> Inputs,
        EquatableArray<int> Outputs,
        OpAttributes Attributes,
        long Params,
        long Flops,
        EquatableArray<Fusion> Fused)
    {
        public int Output => Outputs[0];

        public int Input => Inputs[0];
    }
}
