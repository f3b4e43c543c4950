using System.Globalization;
using Microsoft.CodeAnalysis.Text;
using Res2Net.Generator;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Lowering.Cpu;
using Res2Net.Generator.Passes;
using Xunit;

namespace Res2Net.Tests.Generator.Passes;

/// <summary>
/// The compiled program's invariants over a few hundred random valid specs (blocks 1–3 per stage, widths 1–32, scales
/// 2–8, both stems, avg_down on and off, inputs 32–97 pixels): no two live buffers overlap in the arena, every value a
/// layer reads was written by an earlier layer (or is the image), every view lies inside its buffer, and each conv's
/// scratch is the exact size its algorithm asks for.
/// </summary>
public class PlanInvariantTests
{
    private const int Specs = 300;

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(0, 6).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomSpecsCompileToConsistentPrograms(int shard)
    {
        for (int seed = shard; seed < Specs; seed += 6)
        {
            string json = RandomSpec(new Random(seed));
            var parsed = Res2NetGenerator.ParseSpec($"/specs/r{seed}.json", SourceText.From(json));
            Assert.True(parsed.Spec != null, $"seed {seed}: {json}\n{string.Join("\n", parsed.Diagnostics)}");
            var program = Res2NetGenerator.Plan(parsed.Spec!);
            try
            {
                AssertNoLiveOverlap(program);
                AssertReadsFollowWrites(program);
                AssertScratchExact(program);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}, spec {json}: {e.Message}");
            }
        }
    }

    private static void AssertNoLiveOverlap(CpuProgram p)
    {
        var g = p.Fused;
        var lives = p.Placement.Lives;
        foreach (var a in lives)
        {
            long a0 = p.Placement.Offsets[a.Buffer], a1 = a0 + g.Values[a.Buffer].Elements;
            Assert.True(a0 >= 0 && a1 <= p.Placement.ArenaFloats, $"buffer {a.Buffer} [{a0}, {a1}) is outside the arena of {p.Placement.ArenaFloats}");
            foreach (var b in lives.Where(b => b.Buffer > a.Buffer))
            {
                bool together = a.FirstWrite <= b.LastRead && b.FirstWrite <= a.LastRead;
                long b0 = p.Placement.Offsets[b.Buffer], b1 = b0 + g.Values[b.Buffer].Elements;
                Assert.False(together && a0 < b1 && b0 < a1,
                    $"buffers {a.Buffer} (layers {a.FirstWrite}–{a.LastRead}, [{a0}, {a1})) and {b.Buffer} (layers {b.FirstWrite}–{b.LastRead}, [{b0}, {b1})) overlap while both live");
            }
        }
    }

    private static void AssertReadsFollowWrites(CpuProgram p)
    {
        var g = p.Fused;
        // Channels written so far, per buffer: a view (a split, a concat slot) is written when its channels of its buffer are.
        var written = new Dictionary<int, bool[]>();
        void Write(int v)
        {
            var (buffer, channel) = g.Root(v);
            if (!written.TryGetValue(buffer.Id, out var channels)) written[buffer.Id] = channels = new bool[buffer.Channels];
            for (int c = 0; c < g.Values[v].Channels; c++) channels[channel + c] = true;
        }
        bool IsWritten(int v)
        {
            var (buffer, channel) = g.Root(v);
            return written.TryGetValue(buffer.Id, out var channels) && Enumerable.Range(channel, g.Values[v].Channels).All(c => channels[c]);
        }
        Write(g.Input);
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var node = g.Nodes[i];
            foreach (int v in NetworkGraph.Reads(node))
            {
                var (buffer, channel) = g.Root(v);
                Assert.True(channel + g.Values[v].Channels <= buffer.Channels, $"value {v} runs past its buffer {buffer.Id}");
                Assert.True(IsWritten(v), $"layer {i} ({node.Module}) reads value {v} before any layer writes it");
            }
            foreach (int v in node.Outputs) Write(v);
        }
        Assert.True(IsWritten(g.Logits));
        // Every layer the CPU runs has a kernel: the passes left no split, concat, add, BatchNorm or ReLU.
        Assert.All(g.Nodes, n => Assert.Contains(n.Kind, new[] { OpKind.Conv, OpKind.MaxPool, OpKind.AvgPool, OpKind.GlobalAveragePool, OpKind.Linear }));
    }

    /// <summary>The scratch each algorithm asks for, worked out from its definition (not from the scheduler's code).</summary>
    private static void AssertScratchExact(CpuProgram p)
    {
        foreach (var c in p.Layers.OfType<CpuConv>())
        {
            foreach (var s in new[] { c.Avx512, c.Avx2 })
            {
                var x = c.Shape;
                if (s.Algorithm == ConvAlgorithm.Direct)
                {
                    // Stride 1: one zero-bordered (H + 2p) × (W + 2p) plane per channel; stride 2: four phases of
                    // (H' + p) × (W' + p). Plus 128 floats the 5-vector tiles may read past them.
                    long plane = x.Stride == 1 ? (long)(x.Height + 2 * x.Padding) * (x.Width + 2 * x.Padding) : 4L * (x.OutHeight + x.Padding) * (x.OutWidth + x.Padding);
                    Assert.Equal(x.InChannels * plane + 128, s.ThreadScratchFloats);
                    Assert.Equal(0, s.SharedScratchFloats);
                }
                else
                {
                    // B gathered (k·k taps of every input channel per output pixel), or in place; a tail read at a stride
                    // (a folded shortcut's input) is gathered alone: its channels per output pixel.
                    bool inPlace = x.Kernel == 1 && x.Stride == 1 && !x.Summed;
                    long gathered = !inPlace ? (long)x.InChannels * x.Kernel * x.Kernel * x.OutHeight * x.OutWidth + 64
                        : x.TailChannel > 0 && x.TailStride > 1 ? (long)(x.InChannels - x.TailChannel) * x.OutHeight * x.OutWidth + 64 : 0;
                    Assert.Equal(gathered, s.SharedScratchFloats);
                    Assert.Equal(s.PackB ? 128 * 80 : 0, s.ThreadScratchFloats);
                }
            }
        }
    }

    private static string RandomSpec(Random r)
    {
        int[] blocks = Enumerable.Range(0, 4).Select(_ => r.Next(1, 4)).ToArray();
        int width = r.Next(1, 33), scales = r.Next(2, 9);
        bool deep = r.Next(2) == 0, avgDown = r.Next(2) == 0;
        int h = r.Next(32, 98), w = r.Next(32, 98);
        int baseChannels = 8 * r.Next(1, 5), stem = 2 * r.Next(4, 17);
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        return "{" +
               $"\"name\": \"r\", \"blocks\": [{string.Join(", ", blocks.Select(I))}], \"base_width\": {I(width)}, \"scales\": {I(scales)}, " +
               $"\"stem\": \"{(deep ? "deep" : "plain")}\", \"avg_down\": {(avgDown ? "true" : "false")}, \"stem_channels\": {I(stem)}, " +
               $"\"base_channels\": {I(baseChannels)}, \"num_classes\": {I(r.Next(1, 20))}, \"input_size\": [{I(h)}, {I(w)}]" +
               "}";
    }
}
