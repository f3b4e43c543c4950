using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// Conv → BatchNorm becomes one conv with the BatchNorm attached (<see cref="FoldedBatchNorm"/>): in eval mode BN is
    /// <c>s·x + (β − s·μ)</c> per channel with <c>s = γ / √(σ² + ε)</c>, which the weights absorb when they are packed.
    /// The conv then writes the BatchNorm's output value. A conv whose output anything else reads keeps its BatchNorm.
    /// </summary>
    internal static class FoldBatchNorm
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            var nodes = graph.Nodes.ToList();
            for (int i = 0; i < nodes.Count; i++)
            {
                var bn = nodes[i];
                if (bn.Kind != OpKind.BatchNorm) continue;
                int c = nodes.FindIndex(n => n.Outputs.Contains(bn.Input));
                if (c < 0 || nodes[c].Kind != OpKind.Conv || nodes[c].Fused.Count > 0 || graph.IsTapped(bn.Input)) continue;
                if (nodes.Count(n => NetworkGraph.Reads(n).Contains(bn.Input)) != 1) continue;
                var conv = nodes[c];
                nodes[c] = conv with
                {
                    Outputs = bn.Outputs,
                    Params = conv.Params + bn.Params,
                    Flops = conv.Flops + bn.Flops,
                    Fused = conv.Fused.Append(new FoldedBatchNorm(bn.Module, bn.Attributes.Key!)).ToEquatableArray(),
                };
                nodes.RemoveAt(i--);
            }
            return graph.WithNodes(nodes);
        }
    }
}
