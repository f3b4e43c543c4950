using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// An <c>AvgPool2d(1, 1)</c> (avg_down's shortcut at stride 1) copies its input: its reader reads the input instead,
    /// and carries the pool as an <see cref="IdentityPool"/> so the cost mmcv counts for it stays in the layer table.
    /// </summary>
    internal static class DropIdentityPools
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            for (int i = 0; i < graph.Nodes.Count; i++)
            {
                var pool = graph.Nodes[i];
                var a = pool.Attributes;
                if (pool.Kind is not (OpKind.AvgPool or OpKind.MaxPool) || a.Kernel != 1 || a.Stride != 1 || a.Padding != 0) continue;
                var readers = graph.Consumers(pool.Output);
                if (readers.Count != 1 || graph.IsTapped(pool.Output)) continue;
                int reader = readers[0];
                var nodes = graph.Nodes.ToList();
                nodes[reader] = nodes[reader] with
                {
                    Flops = nodes[reader].Flops + pool.Flops,
                    Fused = new Fusion[] { new IdentityPool(pool.Module) }.Concat(nodes[reader].Fused).ToEquatableArray(),
                };
                nodes.RemoveAt(i);
                graph = graph.WithNodes(nodes).Rename(pool.Output, pool.Input);
                i--;
            }
            return graph;
        }
    }
}
