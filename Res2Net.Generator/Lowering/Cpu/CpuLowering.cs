using System;
using System.Collections.Generic;
using System.Linq;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Model;
using Res2Net.Generator.Passes;
using Res2Net.Generator.Planning;

namespace Res2Net.Generator.Lowering.Cpu
{
    /// <summary>
    /// The graph after the passes → CPU layers: each fused conv with its signature, its operands in the arena, its place in
    /// the packed weights (panels of <see cref="ConvScheduler.RowBlock"/> output channels, the GEMM's layout) and its
    /// schedule for each vector width; pools, the neck and the head with theirs.
    /// </summary>
    internal sealed class CpuLowering
    {
        private readonly NetworkGraph _source;
        private readonly NetworkGraph _graph;
        private readonly Placement _placement;
        private readonly Dictionary<int, string> _labels;
        private long _packed;

        private CpuLowering(NetworkGraph source, NetworkGraph graph, Placement placement)
        {
            _source = source;
            _graph = graph;
            _placement = placement;
            _labels = Labels(source);
        }

        /// <summary>Spec → graph → passes → placement → CPU layers.</summary>
        /// <exception cref="PlanTooLargeException">A buffer, offset or count does not fit.</exception>
        public static CpuProgram Compile(NetworkSpec spec)
        {
            var source = GraphBuilder.Build(spec);
            var fused = PassPipeline.Run(source);
            var placement = ArenaPlacement.Run(fused);
            return new CpuLowering(source, fused, placement).Lower(spec);
        }

        private CpuProgram Lower(NetworkSpec spec)
        {
            var layers = _graph.Nodes.Select(Layer).ToList();
            var stateDict = new List<StateDictEntry>();
            foreach (var node in _source.Nodes)
            {
                string? key = node.Attributes.Key;
                switch (node.Kind)
                {
                    case OpKind.Conv:
                        var x = _source.Values[node.Input];
                        int k = node.Attributes.Kernel;
                        stateDict.Add(Entry(key + ".weight", _source.Values[node.Output].Channels, x.Channels, k, k));
                        break;
                    case OpKind.BatchNorm:
                        int c = _source.Values[node.Input].Channels;
                        foreach (var part in new[] { "weight", "bias", "running_mean", "running_var" }) stateDict.Add(Entry($"{key}.{part}", c));
                        break;
                    case OpKind.Linear:
                        int o = _source.Values[node.Output].Channels;
                        stateDict.Add(Entry(key + ".weight", o, _source.Values[node.Input].Channels));
                        stateDict.Add(Entry(key + ".bias", o));
                        break;
                }
            }
            var taps = _graph.Features.Select(t =>
            {
                var v = _graph.Values[t.Value];
                return new CpuTap(t.Index, t.Name, _graph.Producer(t.Value), Operand(t.Value), v.Channels, v.Height, v.Width);
            });
            return new CpuProgram(spec, _source, _graph, _placement, layers.ToEquatableArray(), stateDict.ToEquatableArray(), Buffers(),
                taps.ToEquatableArray(),
                _source.Nodes.Sum(n => n.Params), _source.Nodes.Sum(n => n.Flops), PlanTooLargeException.Fit(_packed, "the packed weights"));
        }

        private CpuLayer Layer(Node node)
        {
            string method = MethodName(node.Module);
            var x = _graph.Values[node.Input];
            var y = _graph.Values[node.Output];
            switch (node.Kind)
            {
                case OpKind.Conv:
                    var a = node.Attributes;
                    var sum = node.Fused.OfType<InputSum>().SingleOrDefault();
                    var residual = node.Fused.OfType<ResidualAdd>().SingleOrDefault();
                    var shortcut = node.Fused.OfType<ShortcutConv>().SingleOrDefault();
                    var tail = node.Inputs.Count > 1 ? _graph.Values[node.Inputs[1]] : null;
                    var shape = new ConvShape(y.Channels, node.Inputs.Sum(v => _graph.Values[v].Channels), x.Height, x.Width, a.Kernel, a.Stride,
                        a.Padding, y.Height, y.Width, sum != null, tail != null ? x.Channels : 0, residual != null, node.Fused.OfType<FusedRelu>().Any(),
                        TailStride: shortcut?.Conv.Attributes.Stride ?? 1, TailHeight: tail?.Height ?? 0, TailWidth: tail?.Width ?? 0);
                    var operands = new List<Binding> { new("Source", Operand(node.Input)) };
                    if (sum != null) operands.Add(new Binding("Second", Operand(sum.Value)));
                    if (node.Inputs.Count > 1) operands.Add(new Binding("Tail", Operand(node.Inputs[1])));
                    operands.Add(new Binding("Destination", Operand(node.Output)));
                    if (residual != null) operands.Add(new Binding("Residual", Operand(residual.Value)));
                    int rows = (shape.OutChannels + ConvScheduler.RowBlock - 1) / ConvScheduler.RowBlock * ConvScheduler.RowBlock;
                    int weights = Reserve((long)rows * shape.Depth);
                    int bias = Reserve(rows);
                    var avx512 = ConvScheduler.Schedule(shape, Isa.Avx512);
                    var avx2 = ConvScheduler.Schedule(shape, Isa.Avx2);
                    foreach (var schedule in new[] { avx512, avx2 })
                    {
                        // The kernels allocate these as float arrays: a spec whose scratch no array can hold is refused here.
                        PlanTooLargeException.Fit(schedule.SharedScratchFloats, $"{node.Module}'s gathered input");
                        PlanTooLargeException.Fit(schedule.ThreadScratchFloats, $"{node.Module}'s padded input planes");
                    }
                    return new CpuConv(node, method, shape, operands.ToEquatableArray(), weights, bias, avx512, avx2);
                case OpKind.MaxPool:
                case OpKind.AvgPool:
                    return new CpuPool(node, method, x.Channels, x.Height, x.Width, y.Height, y.Width, Operand(node.Input), Operand(node.Output));
                case OpKind.GlobalAveragePool:
                    return new CpuGlobalPool(node, method, x.Channels, x.Height * x.Width, Operand(node.Input), Operand(node.Output));
                case OpKind.Linear:
                    int w = Reserve((long)y.Channels * x.Channels);
                    int b = Reserve(y.Channels);
                    return new CpuLinear(node, method, x.Channels, y.Channels, Operand(node.Input), w, b);
                default:
                    throw new InvalidOperationException($"{node.Module}: no CPU kernel runs a {node.Kind} the passes left in the graph");
            }
        }

        private Operand Operand(int value)
        {
            var (buffer, channel) = _graph.Root(value);
            if (buffer.Id == _graph.Input) return Cpu.Operand.Image;
            if (buffer.Id == _graph.Logits) return Cpu.Operand.Logits;
            int within = PlanTooLargeException.Fit((long)channel * buffer.Height * buffer.Width, "a split's offset");
            return new Operand(OperandKind.Arena, buffer.Id, _placement.Offsets[value], within, _labels.TryGetValue(value, out var label) ? label : "");
        }

        /// <summary>Each buffer's constant: named by the concat it holds or the layer that writes it first.</summary>
        private EquatableArray<BufferName> Buffers()
        {
            var concats = _source.Nodes.Where(n => n.Kind == OpKind.Concat).ToDictionary(n => n.Output, n => n.Module);
            var names = new List<BufferName>();
            foreach (var life in _placement.Lives)
            {
                var v = _graph.Values[life.Buffer];
                string name = concats.TryGetValue(life.Buffer, out var cat)
                    ? MethodName(cat.Replace(" cat", "")) + "_Cat"
                    : MethodName(_graph.Nodes[life.FirstWrite].Module) + "_Out";
                names.Add(new BufferName(life.Buffer, name, _placement.Offsets[life.Buffer], v.Channels, v.Height, v.Width,
                    _graph.Nodes[life.FirstWrite].Module, _graph.Nodes[life.LastRead].Module));
            }
            return names.ToEquatableArray();
        }

        /// <summary>What the paper calls the values that views make: <c>spx[i]</c> of a split, slot i of a concat.</summary>
        private static Dictionary<int, string> Labels(NetworkGraph source)
        {
            var labels = new Dictionary<int, string>();
            foreach (var node in source.Nodes)
            {
                if (node.Kind == OpKind.Split)
                {
                    for (int i = 0; i < node.Outputs.Count; i++) labels[node.Outputs[i]] = $"spx[{i}]";
                }
                else if (node.Kind == OpKind.Concat)
                {
                    for (int i = 0; i < node.Inputs.Count; i++)
                    {
                        if (!labels.ContainsKey(node.Inputs[i])) labels[node.Inputs[i]] = $"cat slot {i}";
                    }
                }
            }
            return labels;
        }

        private int Reserve(long floats)
        {
            int offset = PlanTooLargeException.Fit(_packed, "the packed weights");
            _packed = (_packed + floats + ArenaAllocator.Alignment - 1) / ArenaAllocator.Alignment * ArenaAllocator.Alignment;
            PlanTooLargeException.Fit(_packed, "the packed weights");
            return offset;
        }

        private static StateDictEntry Entry(string key, params int[] shape) => new(key, shape.ToEquatableArray());

        /// <summary><c>layer2.0.convs.3</c> → <c>Layer2_0_Convs_3</c>.</summary>
        internal static string MethodName(string module) =>
            string.Join("_", module.Split('.').Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1)));
    }
}
