using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;
using Res2Net.Generator.Planning;

namespace Res2Net.Generator.Passes
{
    /// <summary>
    /// Places every buffer in one activation arena from its live range (<see cref="Liveness"/>), so that buffers whose
    /// lives do not overlap share memory and a forward allocates nothing. A view sits at its buffer's offset plus its
    /// channel offset.
    /// </summary>
    internal static class ArenaPlacement
    {
        public static Placement Run(NetworkGraph graph)
        {
            var ranges = Liveness.Run(graph);
            var (offsets, arena) = ArenaAllocator.Assign(ranges.Select(r => (r.Floats, r.FirstWrite, r.LastRead)).ToList());
            var byBuffer = ranges.Select((r, i) => (r.Buffer, Offset: offsets[i])).ToDictionary(p => p.Buffer, p => p.Offset);
            var values = graph.Values.Select(v =>
            {
                var (buffer, channel) = graph.Root(v.Id);
                if (!byBuffer.TryGetValue(buffer.Id, out int offset)) return -1;
                return PlanTooLargeException.Fit(offset + (long)channel * buffer.Height * buffer.Width, "a split's offset");
            });
            return new Placement(values.ToEquatableArray(), ranges.Select(r => new LiveRange(r.Buffer, r.FirstWrite, r.LastRead)).ToEquatableArray(),
                PlanTooLargeException.Fit(arena, "the activation arena"));
        }
    }

    /// <summary>Each value's offset in the arena (floats; -1 for the caller's image and logits), each buffer's life, and the arena's size.</summary>
    internal sealed record Placement(EquatableArray<int> Offsets, EquatableArray<LiveRange> Lives, int ArenaFloats);

    /// <summary>Buffer <see cref="Buffer"/> (a value id) is live from node <see cref="FirstWrite"/> to node <see cref="LastRead"/>.</summary>
    internal sealed record LiveRange(int Buffer, int FirstWrite, int LastRead);
}
