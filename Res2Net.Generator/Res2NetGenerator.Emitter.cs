using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Res2Net.Generator.Emitting;
using Res2Net.Generator.Model;
using static Res2Net.Generator.Emitting.CSharpText;

namespace Res2Net.Generator
{
    public sealed partial class Res2NetGenerator
    {
        /// <summary>
        /// Writes one network's class: a straight-line forward that calls one method per layer, each with
        /// its shapes, strides and buffer offsets as literals; the table of checkpoint tensors; and the
        /// binding code that folds each BatchNorm into its conv while packing the weights.
        /// </summary>
        internal static string EmitNetwork(NetworkPlan plan, string ns)
        {
            var spec = plan.Spec;
            string cls = Identifier(spec.ClassName);
            var w = new SourceWriter();
            GeneratedFileHeader.WriteNetwork(w, spec);
            w.Line("#nullable enable");
            w.Line();
            w.Line("using Res2Net.Runtime.Binding;");
            w.Line("using Res2Net.Runtime.Kernels;");
            w.Line("using Res2Net.Runtime.Networks;");
            w.Line();
            w.Line($"namespace {Namespace(ns)};");
            w.Line();
            w.Line("/// <summary>");
            w.Line($"/// {DocText(spec.Name)}: {Describe(spec)}.");
            w.Line($"/// {Format(plan.Params)} parameters, {Format(plan.Flops)} FLOPs (multiply-accumulates, as mmpretrain counts them)");
            w.Line($"/// for one 3×{spec.InputHeight}×{spec.InputWidth} image.");
            w.Line("/// </summary>");
            w.Line("/// <remarks>");
            w.Line($"/// Activations live in one arena of {Format(plan.ArenaFloats)} floats placed by liveness (plus at most {Format(plan.GatherFloats)}");
            w.Line($"/// floats of gathered conv input per thread); weights are packed once at load into {Format(plan.PackedFloats)} floats with");
            w.Line("/// each BatchNorm folded in.");
            w.Line("/// A forward allocates nothing. One instance runs one forward at a time.");
            w.Line("/// </remarks>");
            w.Open($"public sealed unsafe partial class {cls} : CompiledNetwork");
            EmitConstants(w, plan);
            EmitInfo(w, plan);
            EmitBind(w, plan);
            EmitForward(w, plan);
            foreach (var layer in plan.Layers) EmitLayer(w, layer);
            w.Close();
            return w.ToString();
        }

        private static void EmitConstants(SourceWriter w, NetworkPlan plan)
        {
            var spec = plan.Spec;
            string cls = Identifier(spec.ClassName);
            w.Line($"/// <summary>The mmpretrain model name, as <c>get_model</c> takes it.</summary>");
            w.Line($"public const string ModelName = {StringLiteral(spec.Name)};");
            w.Line();
            w.Line("/// <summary>Input height in pixels.</summary>");
            w.Line($"public const int InputHeight = {spec.InputHeight};");
            w.Line("/// <summary>Input width in pixels.</summary>");
            w.Line($"public const int InputWidth = {spec.InputWidth};");
            w.Line("/// <summary>Classifier outputs (logits per image).</summary>");
            w.Line($"public const int NumClasses = {spec.NumClasses};");
            w.Line("/// <summary>Parameters, counted as mmpretrain counts them.</summary>");
            w.Line($"public const long ParamCount = {plan.Params}L;");
            w.Line("/// <summary>Multiply-accumulates for one image, counted as mmpretrain counts them.</summary>");
            w.Line($"public const long FlopCount = {plan.Flops}L;");
            w.Line();
            w.Line($"private const int ArenaFloats = {plan.ArenaFloats};");
            w.Line($"private const int PackedFloats = {plan.PackedFloats};");
            w.Line();
            w.Line("/// <summary>A network with no weights yet; <c>Load</c> binds a checkpoint.</summary>");
            w.Line($"public {cls}() : base(Description, ArenaFloats, PackedFloats)");
            w.Line("{");
            w.Line("}");
            w.Line();
            w.Line($"private {cls}({cls} primary) : base(primary)");
            w.Line("{");
            w.Line("}");
            w.Line();
            w.Line("/// <summary>Another instance over the same packed weights, with its own activation arena.</summary>");
            w.Line($"protected override CompiledNetwork CreateReplica() => new {cls}(this);");
            w.Line();
        }

        private static void EmitInfo(SourceWriter w, NetworkPlan plan)
        {
            var spec = plan.Spec;
            w.Line("/// <summary>The spec, counts, layers and checkpoint table of this network.</summary>");
            w.Line("public static NetworkInfo Description { get; } = new(");
            w.Line($"    Name: {StringLiteral(spec.Name)},");
            w.Line($"    ClassName: {StringLiteral(spec.ClassName)},");
            w.Line($"    SpecFile: {StringLiteral(Path.GetFileName(spec.SpecPath))},");
            w.Line($"    Depth: {spec.Depth},");
            w.Line($"    Blocks: new[] {{ {string.Join(", ", spec.Blocks)} }},");
            w.Line($"    BaseWidth: {spec.BaseWidth},");
            w.Line($"    Scales: {spec.Scales},");
            w.Line($"    Stem: {StringLiteral(spec.Stem == StemKind.Plain ? "plain" : "deep")},");
            w.Line($"    AvgDown: {(spec.AvgDown ? "true" : "false")},");
            w.Line($"    StemChannels: {spec.StemChannels},");
            w.Line($"    BaseChannels: {spec.BaseChannels},");
            w.Line($"    NumClasses: NumClasses,");
            w.Line($"    InputHeight: InputHeight,");
            w.Line($"    InputWidth: InputWidth,");
            w.Line($"    Params: ParamCount,");
            w.Line($"    Flops: FlopCount,");
            w.Line($"    ArenaFloats: ArenaFloats,");
            w.Line($"    GatherFloats: {plan.GatherFloats},");
            w.Line($"    PackedFloats: PackedFloats,");
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
            foreach (var layer in plan.Layers)
            {
                var (input, output, description) = Shapes(layer);
                w.Line($"        new({StringLiteral(layer.Module)}, {StringLiteral(description)}, new[] {{ {string.Join(", ", input)} }}, new[] {{ {string.Join(", ", output)} }}, {layer.Params}, {layer.Flops}, {Kind(layer)}),");
            }
            w.Line("    },");
            w.Line("    StateDict: new StateDictEntry[]");
            w.Line("    {");
            foreach (var entry in plan.StateDict)
            {
                w.Line($"        new({StringLiteral(entry.Key)}, new[] {{ {string.Join(", ", entry.Shape)} }}),");
            }
            w.Line("    },");
            w.Line("    Features: new FeatureInfo[]");
            w.Line("    {");
            foreach (var f in plan.Features)
            {
                w.Line($"        new({f.Index}, {StringLiteral(f.Name)}, {f.Channels}, {f.Height}, {f.Width}),");
            }
            w.Line("    });");
            w.Line();
        }

        private static void EmitBind(SourceWriter w, NetworkPlan plan)
        {
            w.Line("/// <summary>Folds each BatchNorm into its conv and packs the weights in the GEMM's panel order.</summary>");
            w.Open("protected override void Bind(WeightBinder binder)");
            foreach (var layer in plan.Layers)
            {
                switch (layer)
                {
                    case ConvOp c:
                        w.Line($"binder.ConvBatchNorm({StringLiteral(c.ConvKey)}, {StringLiteral(c.NormKey!)}, outChannels: {c.OutChannels}, inChannels: {c.InChannels}, kernel: {c.Kernel}, weights: {c.WeightOffset}, bias: {c.BiasOffset});");
                        break;
                    case LinearOp l:
                        w.Line($"binder.Linear({StringLiteral(l.Key)}, outFeatures: {l.OutFeatures}, inFeatures: {l.InFeatures}, weights: {l.WeightOffset}, bias: {l.BiasOffset});");
                        break;
                }
            }
            w.Close();
            w.Line();
        }

        private static void EmitForward(SourceWriter w, NetworkPlan plan)
        {
            w.Line("/// <summary>One image: every layer in order, each requested stage output copied out right after its layer.</summary>");
            w.Open("protected override void ForwardImage(float* input, float* logits, FeatureCapture? features, int image)");
            var taps = plan.Features.ToLookup(f => f.AfterLayer);
            for (int i = 0; i < plan.Layers.Count; i++)
            {
                var layer = plan.Layers[i];
                string args = layer switch
                {
                    ConvOp c when c.Source.Kind == OperandKind.Input => "input",
                    LinearOp => "logits",
                    _ => "",
                };
                w.Line($"{layer.Method}({args});");
                foreach (var tap in taps[i])
                {
                    w.Line($"features?.Capture({tap.Index}, image, {Pointer(tap.Source)}); // {CommentText(tap.Name)}: [{tap.Channels}, {tap.Height}, {tap.Width}]");
                }
            }
            w.Close();
        }

        private static void EmitLayer(SourceWriter w, LayerOp layer)
        {
            w.Line();
            var (input, output, description) = Shapes(layer);
            w.Line("/// <summary>");
            w.Line($"/// {DocText(layer.Module)}: {DocText(description)}.");
            w.Line($"/// [{string.Join(", ", input)}] → [{string.Join(", ", output)}]");
            w.Line("/// </summary>");
            switch (layer)
            {
                case ConvOp c:
                    w.Open($"private void {c.Method}({(c.Source.Kind == OperandKind.Input ? "float* input" : "")})");
                    w.Line("Gemm.Conv(");
                    w.Line($"    weights: Packed + {c.WeightOffset}, bias: Packed + {c.BiasOffset},");
                    w.Line($"    source: {Pointer(c.Source)}, second: {PointerOrNull(c.SecondSource)}, tail: {PointerOrNull(c.Tail)}, tailChannel: {c.TailChannel},");
                    w.Line($"    destination: {Pointer(c.Destination)}, residual: {PointerOrNull(c.Residual)}, relu: {(c.Relu ? "true" : "false")},");
                    w.Line($"    outChannels: {c.OutChannels}, inChannels: {c.InChannels}, height: {c.InHeight}, width: {c.InWidth},");
                    w.Line($"    kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {c.OutHeight}, outWidth: {c.OutWidth});");
                    w.Close();
                    break;
                case PoolOp p:
                    w.Open($"private void {p.Method}()");
                    string kernel = p.Kind switch
                    {
                        PoolKind.Max => "Max",
                        PoolKind.AverageIncludePad => "AverageIncludePad",
                        _ => "AverageCeilExcludePad",
                    };
                    w.Line($"Pooling.{kernel}({Pointer(p.Source)}, {Pointer(p.Destination)}, channels: {p.Channels}, height: {p.InHeight}, width: {p.InWidth}, kernel: {p.Kernel}, stride: {p.Stride}, padding: {p.Padding}, outHeight: {p.OutHeight}, outWidth: {p.OutWidth});");
                    w.Close();
                    break;
                case GlobalPoolOp g:
                    w.Open($"private void {g.Method}()");
                    w.Line($"Pooling.GlobalAverage({Pointer(g.Source)}, {Pointer(g.Destination)}, channels: {g.Channels}, size: {g.Height * g.Width});");
                    w.Close();
                    break;
                case LinearOp l:
                    w.Open($"private void {l.Method}(float* logits)");
                    w.Line($"Linear.Forward(Packed + {l.WeightOffset}, Packed + {l.BiasOffset}, {Pointer(l.Source)}, logits, outFeatures: {l.OutFeatures}, inFeatures: {l.InFeatures});");
                    w.Close();
                    break;
            }
        }

        /// <summary>Input and output shapes of a layer, and what it computes, for comments and the layer table.</summary>
        private static (int[] Input, int[] Output, string Description) Shapes(LayerOp layer) => layer switch
        {
            ConvOp c => (new[] { c.InChannels, c.InHeight, c.InWidth }, new[] { c.OutChannels, c.OutHeight, c.OutWidth },
                $"{c.Summary}; Conv2d({c.InChannels}, {c.OutChannels}, {c.Kernel}×{c.Kernel}, stride {c.Stride}, padding {c.Padding})"),
            PoolOp p => (new[] { p.Channels, p.InHeight, p.InWidth }, new[] { p.Channels, p.OutHeight, p.OutWidth }, p.Summary),
            GlobalPoolOp g => (new[] { g.Channels, g.Height, g.Width }, new[] { g.Channels }, "GlobalAveragePooling"),
            LinearOp l => (new[] { l.InFeatures }, new[] { l.OutFeatures }, $"Linear({l.InFeatures}, {l.OutFeatures})"),
            _ => (new int[0], new int[0], ""),
        };

        /// <summary>The layer table's kind and kernel arguments (what a profiler needs to replay the layer).</summary>
        private static string Kind(LayerOp layer) => layer switch
        {
            ConvOp c => $"\"conv\", Kernel: {c.Kernel}, Stride: {c.Stride}, Padding: {c.Padding}" +
                        (c.SecondSource != null ? ", Summed: true" : "") + (c.Tail != null ? $", JoinedAt: {c.TailChannel}" : ""),
            PoolOp p => $"\"{(p.Kind == PoolKind.Max ? "maxpool" : "avgpool")}\", Kernel: {p.Kernel}, Stride: {p.Stride}, Padding: {p.Padding}",
            GlobalPoolOp => "\"gap\"",
            _ => "\"linear\"",
        };

        private static string PointerOrNull(Operand? o) => o == null ? "null" : Pointer(o);

        private static string Pointer(Operand o) => o.Kind switch
        {
            OperandKind.Input => "input",
            OperandKind.Logits => "logits",
            _ => o.Offset == 0 ? "Arena" : $"Arena + {o.Offset}",
        };

        private static string Describe(NetworkSpec spec)
        {
            string depth = spec.Depth != 0 ? $"Res2Net-{spec.Depth}" : $"Res2Net with blocks [{string.Join(", ", spec.Blocks)}]";
            return $"{depth}, base width {spec.BaseWidth}, scales {spec.Scales}, {(spec.Stem == StemKind.Plain ? "plain 7×7" : "deep 3×3")} stem" +
                   $"{(spec.AvgDown ? ", avg_down" : "")}, {spec.NumClasses} classes";
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

        private static string FloatLiteral(float f) => f.ToString("R", CultureInfo.InvariantCulture) + "f";
    }
}
