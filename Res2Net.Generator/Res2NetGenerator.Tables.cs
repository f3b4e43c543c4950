using System.Collections.Generic;
using System.IO;
using System.Linq;
using Res2Net.Generator.Emitting;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Lowering.Cpu;
using Res2Net.Generator.Model;
using static Res2Net.Generator.Emitting.CSharpText;

namespace Res2Net.Generator
{
    public sealed partial class Res2NetGenerator
    {
        /// <summary>
        /// Writes the network's tables, the second file of its class, so that the first is the network: the description
        /// (spec, counts, the layer table with each layer's fusions, costs and schedules, the graph PyTorch runs), the
        /// checkpoint's tensors and the binding code that folds each BatchNorm into its conv while packing the weights.
        /// Everything else (the exporter, the profiler, <c>info</c>) reads these tables rather than deriving them again.
        /// </summary>
        internal static string EmitTables(CpuProgram program, string ns)
        {
            var spec = program.Spec;
            var w = new SourceWriter();
            GeneratedFileHeader.WriteNetwork(w, spec);
            w.Line($"// The tables of {CommentText(spec.ClassName)}.g.cs: its description, layer table, graph and checkpoint tensors.");
            w.Line("#nullable enable");
            w.Line();
            w.Line("using Res2Net.Runtime.Binding;");
            w.Line("using Res2Net.Runtime.Networks;");
            w.Line();
            w.Line($"namespace {Namespace(ns)};");
            w.Line();
            w.Open($"public sealed unsafe partial class {Identifier(spec.ClassName)}");
            EmitDescription(w, program);
            EmitBind(w, program);
            w.Close();
            return w.ToString();
        }

        private static void EmitDescription(SourceWriter w, CpuProgram program)
        {
            var spec = program.Spec;
            w.Line("/// <summary>The spec, counts, layers, graph and checkpoint table of this network.</summary>");
            w.Line("public static NetworkInfo Description { get; } = new(");
            w.Line($"    Name: {StringLiteral(spec.Name)},");
            w.Line($"    ClassName: {StringLiteral(spec.ClassName)},");
            w.Line($"    SpecFile: {StringLiteral(Path.GetFileName(spec.SpecPath))},");
            w.Line($"    Depth: {spec.Depth},");
            w.Line($"    Blocks: new[] {{ {string.Join(", ", spec.Blocks)} }},");
            w.Line($"    BaseWidth: {spec.BaseWidth},");
            w.Line($"    Scales: {spec.Scales},");
            w.Line($"    Stem: {StringLiteral(spec.Stem == StemKind.Plain ? "plain" : "deep")},");
            w.Line($"    AvgDown: {Bool(spec.AvgDown)},");
            w.Line($"    StemChannels: {spec.StemChannels},");
            w.Line($"    BaseChannels: {spec.BaseChannels},");
            w.Line("    NumClasses: NumClasses,");
            w.Line("    InputHeight: InputHeight,");
            w.Line("    InputWidth: InputWidth,");
            w.Line("    Params: ParamCount,");
            w.Line("    Flops: FlopCount,");
            w.Line("    ArenaFloats: ArenaFloats,");
            w.Line("    PackedFloats: PackedFloats,");
            w.Line($"    CheckpointUrl: {(spec.CheckpointUrl == null ? "null" : StringLiteral(spec.CheckpointUrl))},");
            w.Line($"    CheckpointSha256: {(spec.CheckpointSha256 == null ? "null" : StringLiteral(spec.CheckpointSha256))},");
            w.Line($"    ResizeEdge: {spec.ResizeEdge},");
            w.Line($"    Mean: new[] {{ {string.Join(", ", spec.Mean.Select(FloatLiteral))} }},");
            w.Line($"    Std: new[] {{ {string.Join(", ", spec.Std.Select(FloatLiteral))} }},");
            w.Line(spec.ClassNames.Count == 0
                ? "    ClassNames: null,"
                : $"    ClassNames: new[] {{ {string.Join(", ", spec.ClassNames.Select(StringLiteral))} }},");
            w.Line("    Layers: new LayerInfo[]");
            w.Line("    {");
            foreach (var layer in program.Layers) w.Line($"        {LayerRow(program, layer)},");
            w.Line("    },");
            w.Line("    StateDict: new StateDictEntry[]");
            w.Line("    {");
            foreach (var entry in program.StateDict) w.Line($"        new({StringLiteral(entry.Key)}, new[] {{ {string.Join(", ", entry.Shape)} }}),");
            w.Line("    },");
            w.Line("    Features: new FeatureInfo[]");
            w.Line("    {");
            foreach (var t in program.Taps) w.Line($"        new({t.Index}, {StringLiteral(t.Name)}, {t.Channels}, {t.Height}, {t.Width}),");
            w.Line("    },");
            var g = program.Source;
            w.Line("    Graph: new GraphInfo(");
            w.Line("        Values: new GraphValue[]");
            w.Line("        {");
            foreach (var v in g.Values) w.Line($"            new({v.Channels}, {v.Height}, {v.Width}),");
            w.Line("        },");
            w.Line("        Nodes: new GraphNode[]");
            w.Line("        {");
            foreach (var n in g.Nodes)
            {
                var a = n.Attributes;
                var extra = new List<string>();
                if (a.Kernel != 0) extra.Add($"Kernel: {a.Kernel}, Stride: {a.Stride}, Padding: {a.Padding}");
                if (n.Kind is OpKind.MaxPool or OpKind.AvgPool) extra.Add($"Pool: \"{a.Pool}\"");
                if (a.Key != null) extra.Add($"Key: {StringLiteral(a.Key)}");
                w.Line($"            new(\"{n.Kind}\", {StringLiteral(n.Module)}, new[] {{ {string.Join(", ", n.Inputs)} }}, new[] {{ {string.Join(", ", n.Outputs)} }}" +
                       (extra.Count > 0 ? ", " + string.Join(", ", extra) : "") + "),");
            }
            w.Line("        },");
            w.Line($"        Input: {g.Input},");
            w.Line($"        Output: {g.Logits}));");
            w.Line();
        }

        /// <summary>One row of the layer table: kind, fusions, shapes, costs and the schedule per vector width.</summary>
        private static string LayerRow(CpuProgram program, CpuLayer layer)
        {
            var (input, output) = Shapes(program, layer);
            var node = layer.Node;
            var fusions = new List<string>();
            if (node.Fused.OfType<FoldedBatchNorm>().Any()) fusions.Add("LayerFusions.BatchNorm");
            if (node.Fused.OfType<InputSum>().Any()) fusions.Add("LayerFusions.InputSum");
            bool shortcut = node.Fused.OfType<ShortcutConv>().Any();
            if (layer is CpuConv { Shape.TailChannel: > 0 } && !shortcut) fusions.Add("LayerFusions.ConcatTail");
            if (node.Fused.OfType<ResidualAdd>().Any()) fusions.Add("LayerFusions.Residual");
            if (shortcut) fusions.Add("LayerFusions.ShortcutConv");
            if (node.Fused.OfType<FusedRelu>().Any()) fusions.Add("LayerFusions.Relu");
            if (node.Fused.OfType<IdentityPool>().Any()) fusions.Add("LayerFusions.IdentityPool");
            string kind = layer switch
            {
                CpuConv => "Conv",
                CpuPool p => p.Node.Attributes.Pool switch { PoolKind.Max => "MaxPool", PoolKind.AverageIncludePad => "AvgPool", _ => "AvgPoolCeil" },
                CpuGlobalPool => "GlobalAveragePool",
                _ => "Linear",
            };
            long macs = layer switch
            {
                CpuConv c => c.Shape.MultiplyAdds,
                CpuLinear l => (long)l.InFeatures * l.OutFeatures,
                _ => 0,
            };
            string row = $"new({StringLiteral(node.Module)}, {StringLiteral(Computes(layer))}, LayerKind.{kind}, " +
                         $"{(fusions.Count == 0 ? "LayerFusions.None" : string.Join(" | ", fusions))}, " +
                         $"new string[] {{ {string.Join(", ", FusedModules(node).Select(StringLiteral))} }}, " +
                         $"new[] {{ {string.Join(", ", input)} }}, new[] {{ {string.Join(", ", output)} }}, {node.Params}, {node.Flops}, {macs}";
            var a = node.Attributes;
            if (a.Kernel != 0) row += $", Kernel: {a.Kernel}, Stride: {a.Stride}, Padding: {a.Padding}";
            if (layer is CpuConv conv)
            {
                if (conv.Shape.TailChannel > 0) row += $", TailChannel: {conv.Shape.TailChannel}";
                if (conv.Shape.TailStride > 1) row += $", TailStride: {conv.Shape.TailStride}";
                row += $", Avx512: {ScheduleRow(conv.Avx512)}, Avx2: {ScheduleRow(conv.Avx2)}";
            }
            return row + ")";
        }

        /// <summary>The modules a layer absorbed, in the order they run: a folded shortcut's conv and what it absorbed, then its add.</summary>
        private static IEnumerable<string> FusedModules(Node node) => node.Fused.SelectMany(f => f is ShortcutConv s
            ? s.Conv.Fused.OfType<IdentityPool>().Select(p => p.Module).Append(s.Conv.Module)
                .Concat(s.Conv.Fused.Where(g => g is not IdentityPool).Select(g => g.Module)).Append(s.Module)
            : new[] { f.Module });

        private static string ScheduleRow(ConvSchedule s) =>
            $"new({StringLiteral(s.Algorithm == ConvAlgorithm.Direct ? "direct" : "gemm")}, {StringLiteral(s.Description)}, {s.SharedScratchFloats}, {s.ThreadScratchFloats})";

        private static void EmitBind(SourceWriter w, CpuProgram program)
        {
            w.Line("/// <summary>Folds each BatchNorm into its conv and packs the weights in the GEMM's panel order.</summary>");
            w.Open("protected override void Bind(WeightBinder binder)");
            foreach (var layer in program.Layers)
            {
                switch (layer)
                {
                    case CpuConv c:
                        var bn = c.Node.Fused.OfType<FoldedBatchNorm>().Single();
                        if (c.Node.Fused.OfType<ShortcutConv>().SingleOrDefault() is { } sc)
                        {
                            w.Line($"binder.ConvBatchNormWithShortcut({StringLiteral(c.Node.Attributes.Key!)}, {StringLiteral(bn.Key)}, " +
                                   $"{StringLiteral(sc.Conv.Attributes.Key!)}, {StringLiteral(sc.Norm.Key)}, outChannels: {c.Shape.OutChannels}, " +
                                   $"inChannels: {c.Shape.TailChannel}, shortcutInChannels: {c.Shape.InChannels - c.Shape.TailChannel}, weights: {c.WeightOffset}, bias: {c.BiasOffset});");
                            break;
                        }
                        w.Line($"binder.ConvBatchNorm({StringLiteral(c.Node.Attributes.Key!)}, {StringLiteral(bn.Key)}, outChannels: {c.Shape.OutChannels}, inChannels: {c.Shape.InChannels}, kernel: {c.Shape.Kernel}, weights: {c.WeightOffset}, bias: {c.BiasOffset});");
                        break;
                    case CpuLinear l:
                        w.Line($"binder.Linear({StringLiteral(l.Node.Attributes.Key!)}, outFeatures: {l.OutFeatures}, inFeatures: {l.InFeatures}, weights: {l.WeightOffset}, bias: {l.BiasOffset});");
                        break;
                }
            }
            w.Close();
        }

        /// <summary>The registry: every network of the project by its mmpretrain name.</summary>
        internal static string EmitRegistry(IReadOnlyList<NetworkSpec> specs, string ns)
        {
            var w = new SourceWriter();
            GeneratedFileHeader.WriteRegistry(w, specs);
            w.Line("#nullable enable");
            w.Line();
            w.Line("using Res2Net.Runtime.Networks;");
            w.Line();
            w.Line($"namespace {Namespace(ns)};");
            w.Line();
            w.Line("/// <summary>The networks compiled into this assembly, by mmpretrain model name.</summary>");
            w.Open("public static partial class Res2NetModels");
            w.Line("/// <summary>Every network's description, in the order of their spec files' paths.</summary>");
            w.Line("public static global::System.Collections.Generic.IReadOnlyList<NetworkInfo> All { get; } = new NetworkInfo[]");
            w.Line("{");
            foreach (var s in specs) w.Line($"    {Identifier(s.ClassName)}.Description,");
            w.Line("};");
            w.Line();
            w.Line("/// <summary>A new, unloaded instance of the named network (weights are bound by <c>Load</c>).</summary>");
            w.Line("/// <exception cref=\"UnknownModelException\">No network of that name is compiled in; the message lists those that are.</exception>");
            w.Open("public static CompiledNetwork Create(string name)");
            w.Open("return name switch");
            foreach (var s in specs)
            {
                w.Line($"{StringLiteral(s.Name)} or {StringLiteral(s.ClassName)} => new {Identifier(s.ClassName)}(),");
            }
            w.Line("_ => throw new UnknownModelException(name, All),");
            w.Close(";");
            w.Close();
            w.Close();
            return w.ToString();
        }
    }
}
