using System;
using System.Collections.Generic;
using System.Linq;

namespace Res2Net.Generator.Planning
{
    /// <summary>
    /// Gives every activation tensor an offset in one arena so that a forward pass allocates nothing:
    /// tensors whose lifetimes (first write to last read, in layer order) do not overlap share memory.
    /// First-fit in order of definition, which for a chain of residual blocks comes close to the
    /// minimum (about three block-sized buffers live at once).
    /// </summary>
    internal static class ArenaAllocator
    {
        /// <summary>Offsets are rounded to 16 floats (64 bytes) so each tensor starts on a cache line.</summary>
        public const int Alignment = 16;

        public static (int[] Offsets, long ArenaFloats) Assign(IReadOnlyList<(long Size, int FirstWrite, int LastRead)> tensors)
        {
            var offsets = new int[tensors.Count];
            var live = new List<(long Offset, long Size, int LastRead)>();
            long arena = 0;
            foreach (int t in Enumerable.Range(0, tensors.Count).OrderBy(i => tensors[i].FirstWrite).ThenBy(i => i))
            {
                var (size, firstWrite, lastRead) = tensors[t];
                live.RemoveAll(b => b.LastRead < firstWrite);
                live.Sort((a, b) => a.Offset.CompareTo(b.Offset));
                long candidate = 0;
                foreach (var block in live)
                {
                    if (candidate + size <= block.Offset) break;
                    candidate = Math.Max(candidate, Align(block.Offset + block.Size));
                }
                PlanTooLargeException.Fit(candidate + size, "the activation arena");
                offsets[t] = (int)candidate;
                live.Add((candidate, size, lastRead));
                arena = Math.Max(arena, candidate + size);
            }
            return (offsets, Align(arena));
        }

        private static long Align(long x) => (x + Alignment - 1) / Alignment * Alignment;
    }
}
