using System;
using System.Collections.Generic;
using System.Linq;
using Res2Net.Generator.Graph;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// Which buffers are live when: for each value that owns memory (not a view, not the caller's image or logits), the
    /// first node that writes it or a view of it and the last that reads it. A stage output that <c>extract_feat</c> copies
    /// out is read right after the node that writes it.
    /// </summary>
    internal static class Liveness
    {
        public sealed record Range(int Buffer, long Floats, int FirstWrite, int LastRead);

        public static IReadOnlyList<Range> Run(NetworkGraph graph)
        {
            var first = new Dictionary<int, int>();
            var last = new Dictionary<int, int>();
            void Touch(int value, int at, bool write)
            {
                var (buffer, _) = graph.Root(value);
                if (buffer.Id == graph.Input || buffer.Id == graph.Logits) return;
                if (write && !first.ContainsKey(buffer.Id)) first[buffer.Id] = at;
                last[buffer.Id] = Math.Max(last.TryGetValue(buffer.Id, out int l) ? l : at, at);
            }
            for (int i = 0; i < graph.Nodes.Count; i++)
            {
                var node = graph.Nodes[i];
                foreach (int v in NetworkGraph.Reads(node)) Touch(v, i, write: false);
                foreach (int v in node.Outputs) Touch(v, i, write: true);
            }
            foreach (var tap in graph.Features) Touch(tap.Value, graph.Producer(tap.Value), write: false);

            return first.Keys.OrderBy(b => b)
                .Select(b => new Range(b, graph.Values[b].Elements, first[b], last[b]))
                .ToList();
        }
    }
}
