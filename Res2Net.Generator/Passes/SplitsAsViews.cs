using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// <c>torch.split</c> copies nothing: each piece becomes a channel range of the split value (<see cref="ViewOf"/>), and
    /// the split node goes. A channel range of a <c>[C, H, W]</c> tensor is contiguous, so a view is an offset.
    /// </summary>
    internal static class SplitsAsViews
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            var values = graph.Values.ToArray();
            foreach (var split in graph.Nodes.Where(n => n.Kind == OpKind.Split))
            {
                int channel = 0;
                foreach (int piece in split.Outputs)
                {
                    values[piece] = values[piece] with { View = new ViewOf(split.Input, channel) };
                    channel += values[piece].Channels;
                }
            }
            return graph with
            {
                Values = values.ToEquatableArray(),
                Nodes = graph.Nodes.Where(n => n.Kind != OpKind.Split).ToEquatableArray(),
            };
        }
    }
}
