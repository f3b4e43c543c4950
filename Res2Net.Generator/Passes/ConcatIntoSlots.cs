using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// <c>torch.cat</c> is never assembled. Each piece that is a buffer of its own is written straight into its slot of the
    /// concat (it becomes a <see cref="ViewOf"/> the concat's value). A trailing piece that already lives elsewhere (a
    /// normal block's untouched last split, a view of conv1's output) cannot move; when the concat's only reader is a
    /// 1×1 conv, that conv reads it in place as a second input part, and the concat's value shrinks to the slots.
    /// A concat that fits neither rule stays (a lowering without a copy kernel then refuses it).
    /// </summary>
    internal static class ConcatIntoSlots
    {
        public static NetworkGraph Run(NetworkGraph graph)
        {
            for (int i = 0; i < graph.Nodes.Count; i++)
            {
                var cat = graph.Nodes[i];
                if (cat.Kind != OpKind.Concat || graph.IsTapped(cat.Output)) continue;
                bool Movable(int piece) => graph.Values[piece].View == null && piece != graph.Input && graph.Producer(piece) >= 0;
                int slots = cat.Inputs.TakeWhile(Movable).Count();
                var rest = cat.Inputs.Skip(slots).ToList();
                if (rest.Any(Movable)) continue;

                var readers = graph.Consumers(cat.Output);
                int reader = readers.Count == 1 ? readers[0] : -1;
                if (rest.Count > 0)
                {
                    var r = reader >= 0 ? graph.Nodes[reader] : null;
                    bool inPlace = r != null && r.Kind == OpKind.Conv && r.Inputs.Count == 1 && !r.Fused.OfType<InputSum>().Any() &&
                                   r.Attributes is { Kernel: 1, Stride: 1, Padding: 0 };
                    if (!inPlace || slots == 0) continue;
                }

                var values = graph.Values.ToArray();
                int channel = 0;
                foreach (int piece in cat.Inputs.Take(slots))
                {
                    values[piece] = values[piece] with { View = new ViewOf(cat.Output, channel) };
                    channel += values[piece].Channels;
                }
                values[cat.Output] = values[cat.Output] with { Channels = channel };
                var nodes = graph.Nodes.ToList();
                if (rest.Count > 0)
                {
                    nodes[reader] = nodes[reader] with { Inputs = new[] { cat.Output }.Concat(rest).ToEquatableArray() };
                }
                nodes.RemoveAt(i--);
                graph = graph with { Values = values.ToEquatableArray(), Nodes = nodes.ToEquatableArray() };
            }
            return graph;
        }
    }
}
