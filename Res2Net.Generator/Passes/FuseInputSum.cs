using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// Res2Net's hierarchical <c>sp = sp + spx[i]</c>, when a conv is its only reader, becomes that conv's prologue
    /// (<see cref="InputSum"/>): the conv reads <c>spx[i]</c> and adds <c>sp</c> as it reads, so the sum never has a
    /// buffer or a pass of its own. (Float addition is commutative, so <c>spx[i] + sp</c> is PyTorch's sum bit for bit.)
    /// </summary>
    internal static class FuseInputSum
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            var nodes = graph.Nodes.ToList();
            for (int i = 0; i < nodes.Count; i++)
            {
                var add = nodes[i];
                if (add.Kind != OpKind.Add || graph.IsTapped(add.Output)) continue;
                var readers = Enumerable.Range(0, nodes.Count).Where(j => NetworkGraph.Reads(nodes[j]).Contains(add.Output)).ToList();
                if (readers.Count != 1) continue;
                var conv = nodes[readers[0]];
                if (conv.Kind != OpKind.Conv || conv.Inputs.Count != 1 || conv.Input != add.Output || conv.Fused.OfType<InputSum>().Any()) continue;
                nodes[readers[0]] = conv with
                {
                    Inputs = new[] { add.Inputs[1] }.ToEquatableArray(),
                    Fused = new Fusion[] { new InputSum(add.Module, add.Inputs[0]) }.Concat(conv.Fused).ToEquatableArray(),
                };
                nodes.RemoveAt(i--);
            }
            return graph.WithNodes(nodes);
        }
    }
}
