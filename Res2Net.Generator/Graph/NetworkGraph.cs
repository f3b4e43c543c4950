using System.Collections.Generic;
using System.Linq;
using Res2Net.Generator.Model;

namespace Res2Net.Generator.Graph
{
    /// <summary>
    /// A network as a list of ops in execution order over values with static shapes: backend-neutral, equatable, and what
    /// every pass takes and returns. <see cref="Input"/> is the image, <see cref="Logits"/> the head's output.
    /// </summary>
    internal sealed record NetworkGraph(
        EquatableArray<Value> Values,
        EquatableArray<Node> Nodes,
        EquatableArray<FeatureTap> Features,
        int Input,
        int Logits)
    {
        /// <summary>The value that owns the memory <paramref name="value"/> lives in, and its channel offset there.</summary>
        public (Value Buffer, int Channel) Root(int value)
        {
            var v = Values[value];
            int channel = 0;
            while (v.View != null)
            {
                channel += v.View.Channel;
                v = Values[v.View.Of];
            }
            return (v, channel);
        }

        /// <summary>Every value a node reads: its inputs and those its fusions add.</summary>
        public static IEnumerable<int> Reads(Node node) =>
            node.Inputs.Concat(node.Fused.Select(f => f switch
            {
                InputSum s => s.Value,
                ResidualAdd r => r.Value,
                _ => -1,
            }).Where(v => v >= 0));

        /// <summary>The index of the node that writes <paramref name="value"/>, or -1 (the input).</summary>
        public int Producer(int value)
        {
            for (int i = 0; i < Nodes.Count; i++)
            {
                if (Nodes[i].Outputs.Contains(value)) return i;
            }
            return -1;
        }

        /// <summary>Indices of the nodes that read <paramref name="value"/> (as an input or through a fusion).</summary>
        public IReadOnlyList<int> Consumers(int value) =>
            Enumerable.Range(0, Nodes.Count).Where(i => Reads(Nodes[i]).Contains(value)).ToList();

        /// <summary>Whether a stage output is taken from <paramref name="value"/> (it must then stay a value of its own).</summary>
        public bool IsTapped(int value) => Features.Any(f => f.Value == value) || value == Logits;

        public NetworkGraph WithNodes(IEnumerable<Node> nodes) => this with { Nodes = nodes.ToEquatableArray() };

        /// <summary>Replaces every read of <paramref name="from"/> (inputs, fusions, feature taps) with <paramref name="to"/>.</summary>
        public NetworkGraph Rename(int from, int to)
        {
            int R(int v) => v == from ? to : v;
            Fusion F(Fusion f) => f switch
            {
                InputSum s => s with { Value = R(s.Value) },
                ResidualAdd r => r with { Value = R(r.Value) },
                _ => f,
            };
            return this with
            {
                Nodes = Nodes.Select(n => n with { Inputs = n.Inputs.Select(R).ToEquatableArray(), Fused = n.Fused.Select(F).ToEquatableArray() }).ToEquatableArray(),
                Features = Features.Select(t => t with { Value = R(t.Value) }).ToEquatableArray(),
                Logits = R(Logits),
            };
        }
    }
}
