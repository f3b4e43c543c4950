using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// What follows a conv element-wise runs in its epilogue, in registers before the one store: an add of another value
    /// (<see cref="ResidualAdd"/>: conv3's <c>out += identity</c>) and then a ReLU (<see cref="FusedRelu"/>). Each fuses
    /// only when the conv's result is read by nothing else, and in PyTorch's order (bias, residual, ReLU): a ReLU already
    /// fused ends the epilogue.
    /// </summary>
    internal static class FuseEpilogue
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            var nodes = graph.Nodes.ToList();
            for (int i = 0; i < nodes.Count; i++)
            {
                var op = nodes[i];
                if (op.Kind is not (OpKind.Add or OpKind.Relu)) continue;
                int c = nodes.FindIndex(n => n.Outputs.Contains(op.Input));
                if (c < 0 || nodes[c].Kind != OpKind.Conv || graph.IsTapped(op.Input)) continue;
                if (nodes.Count(n => NetworkGraph.Reads(n).Contains(op.Input)) != 1) continue;
                var conv = nodes[c];
                // The other operand must exist when the conv runs: written before it (or the image).
                if (op.Kind == OpKind.Add && nodes.FindIndex(n => n.Outputs.Contains(op.Inputs[1])) > c) continue;
                if (conv.Fused.OfType<FusedRelu>().Any() || (op.Kind == OpKind.Add && conv.Fused.OfType<ResidualAdd>().Any())) continue;
                Fusion step = op.Kind == OpKind.Add ? new ResidualAdd(op.Module, op.Inputs[1]) : new FusedRelu(op.Module);
                nodes[c] = conv with
                {
                    Outputs = op.Outputs,
                    Flops = conv.Flops + op.Flops,
                    Fused = conv.Fused.Append(step).ToEquatableArray(),
                };
                nodes.RemoveAt(i--);
            }
            return graph.WithNodes(nodes);
        }
    }
}
