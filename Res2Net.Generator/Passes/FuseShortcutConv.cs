using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// A stage's first Bottle2neck adds <c>downsample(x)</c>, a 1×1 conv with its BatchNorm, to conv3's result. Both are
    /// 1×1 convs over the same output pixels, so <c>conv3(cat) + downsample(x)</c> is one conv over the input channels of
    /// both: the shortcut's input becomes conv3's last input part (read at the shortcut's stride), its weights are packed
    /// after conv3's and the biases summed (<see cref="ShortcutConv"/>). The shortcut's output, a full-size buffer
    /// written and read once, and a layer go away; the multiply-adds are the same.
    /// <para>
    /// It applies to a 1×1 stride-1 conv with one input and a <see cref="ResidualAdd"/> whose value a 1×1 unpadded conv
    /// writes for it alone (untapped, nothing but its BatchNorm and an identity pool fused into it) from a value other
    /// than the image. It runs last: conv3's input is then the concat's slots, and a normal block's conv3 (which reads
    /// the last split as a second part, and adds the identity itself) is left alone.
    /// </para>
    /// </summary>
    internal static class FuseShortcutConv
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            for (int c = 0; c < graph.Nodes.Count; c++)
            {
                var conv = graph.Nodes[c];
                var residual = conv.Fused.OfType<ResidualAdd>().SingleOrDefault();
                if (conv.Kind != OpKind.Conv || residual == null || conv.Inputs.Count != 1 || conv.Fused.OfType<InputSum>().Any() ||
                    conv.Attributes is not { Kernel: 1, Stride: 1, Padding: 0 })
                {
                    continue;
                }
                int d = graph.Producer(residual.Value);
                if (d < 0 || d > c || graph.IsTapped(residual.Value) || graph.Consumers(residual.Value).Count != 1) continue;
                var shortcut = graph.Nodes[d];
                if (shortcut.Kind != OpKind.Conv || shortcut.Attributes is not { Kernel: 1, Padding: 0 } || shortcut.Input == graph.Input ||
                    shortcut.Fused.OfType<FoldedBatchNorm>().Count() != 1 || !shortcut.Fused.All(f => f is FoldedBatchNorm or IdentityPool))
                {
                    continue;
                }
                var y = graph.Values[conv.Output];
                var s = graph.Values[shortcut.Output];
                if (s.Channels != y.Channels || s.Height != y.Height || s.Width != y.Width) continue;

                var nodes = graph.Nodes.ToList();
                nodes[c] = conv with
                {
                    Inputs = conv.Inputs.Append(shortcut.Input).ToEquatableArray(),
                    Params = conv.Params + shortcut.Params,
                    Flops = conv.Flops + shortcut.Flops,
                    Fused = conv.Fused.Select(f => f == residual ? new ShortcutConv(residual.Module, shortcut) : f).ToEquatableArray(),
                };
                nodes.RemoveAt(d);
                graph = graph.WithNodes(nodes);
                c--;
            }
            return graph;
        }
    }
}
