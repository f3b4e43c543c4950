using System.Collections.Generic;
using System.Globalization;
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
        /// Writes one network's class (the network file; its tables are in <see cref="EmitTables"/>): the arena's buffers
        /// named with their live ranges, a forward per vector width that reads block by block as the paper draws the
        /// network, one method per layer and width naming the algorithm it runs, and a layer type per distinct conv
        /// signature, whose constants the kernels are compiled for.
        /// </summary>
        internal static string EmitNetwork(CpuProgram program, string ns)
        {
            var spec = program.Spec;
            string cls = Identifier(spec.ClassName);
            var w = new SourceWriter();
            GeneratedFileHeader.WriteNetwork(w, spec);
            w.Line("#nullable enable");
            w.Line();
            w.Line("using Res2Net.Runtime.Kernels;");
            w.Line("using Res2Net.Runtime.Kernels.Layers;");
            w.Line("using Res2Net.Runtime.Networks;");
            w.Line();
            w.Line($"namespace {Namespace(ns)};");
            w.Line();
            w.Line("/// <summary>");
            w.Line($"/// {DocText(spec.Name)}: {Describe(spec)}.");
            w.Line($"/// {Format(program.Params)} parameters, {Format(program.Flops)} FLOPs (multiply-accumulates, as mmpretrain counts them)");
            w.Line($"/// for one 3×{spec.InputHeight}×{spec.InputWidth} image.");
            w.Line("/// </summary>");
            w.Line("/// <remarks>");
            w.Line($"/// Activations live in one arena of {Format(program.Placement.ArenaFloats)} floats placed by liveness; weights are packed once at");
            w.Line($"/// load into {Format(program.PackedFloats)} floats with each BatchNorm folded in. Every conv's algorithm, tiles and thread");
            w.Line("/// split were chosen when this file was generated, for AVX-512 and for AVX2; the machine picks one of the two forwards.");
            w.Line("/// A forward allocates nothing. One instance runs one forward at a time.");
            w.Line("/// </remarks>");
            w.Open($"public sealed unsafe partial class {cls} : CompiledNetwork");
            EmitConstants(w, program);
            EmitBuffers(w, program);
            EmitForwards(w, program);
            EmitLayerMethods(w, program, Isa.Avx512);
            EmitLayerMethods(w, program, Isa.Avx2);
            EmitLayerMethods(w, program, null);
            EmitLayerTypes(w, program);
            w.Close();
            return w.ToString();
        }

        private static void EmitConstants(SourceWriter w, CpuProgram program)
        {
            var spec = program.Spec;
            string cls = Identifier(spec.ClassName);
            w.Line("/// <summary>The mmpretrain model name, as <c>get_model</c> takes it.</summary>");
            w.Line($"public const string ModelName = {StringLiteral(spec.Name)};");
            w.Line();
            w.Line("/// <summary>Input height in pixels.</summary>");
            w.Line($"public const int InputHeight = {spec.InputHeight};");
            w.Line("/// <summary>Input width in pixels.</summary>");
            w.Line($"public const int InputWidth = {spec.InputWidth};");
            w.Line("/// <summary>Classifier outputs (logits per image).</summary>");
            w.Line($"public const int NumClasses = {spec.NumClasses};");
            w.Line("/// <summary>Parameters, counted as mmpretrain counts them.</summary>");
            w.Line($"public const long ParamCount = {program.Params}L;");
            w.Line("/// <summary>Multiply-accumulates for one image, counted as mmpretrain counts them.</summary>");
            w.Line($"public const long FlopCount = {program.Flops}L;");
            w.Line();
            w.Line($"private const int ArenaFloats = {program.Placement.ArenaFloats};");
            w.Line($"private const int PackedFloats = {program.PackedFloats};");
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

        private static void EmitBuffers(SourceWriter w, CpuProgram program)
        {
            w.Line("// The activation buffers: float offsets into Arena, each named by the concat it holds or the layer that writes it");
            w.Line("// first, and live from that layer to the last that reads it; buffers whose lives do not overlap share memory.");
            foreach (var b in program.Buffers)
            {
                w.Line($"private const int {b.Name} = {b.Offset}; // [{b.Channels}, {b.Height}, {b.Width}], {CommentText(b.FirstWriter)} … {CommentText(b.LastReader)}");
            }
            w.Line();
        }

        private static void EmitForwards(SourceWriter w, CpuProgram program)
        {
            w.Line("/// <summary>The machine's vector width, read once: the forward scheduled for it is the one that runs.</summary>");
            w.Line("private static readonly bool s_avx512 = VectorWidth.Avx512;");
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Open("protected override void ForwardImage(float* input, float* logits, FeatureCapture? features, int image)");
            w.Line("if (s_avx512) ForwardAvx512(input, logits, features, image);");
            w.Line("else ForwardAvx2(input, logits, features, image);");
            w.Close();
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Open("protected override void RunLayer(int index, float* input, float* logits)");
            w.Open("switch (index)");
            for (int i = 0; i < program.Layers.Count; i++)
            {
                var layer = program.Layers[i];
                string args = LayerArguments(layer);
                w.Line(layer is CpuConv
                    ? $"case {i}: if (s_avx512) {layer.Method}_Avx512({args}); else {layer.Method}_Avx2({args}); break;"
                    : $"case {i}: {layer.Method}({args}); break;");
            }
            w.Close();
            w.Close();
            foreach (var isa in new[] { Isa.Avx512, Isa.Avx2 })
            {
                w.Line();
                w.Line($"/// <summary>One image on {IsaText(isa)}: every layer in order, block by block; each requested stage output copied out after it.</summary>");
                w.Open($"private void Forward{isa.Name}(float* input, float* logits, FeatureCapture? features, int image)");
                string? block = null;
                var taps = program.Taps.ToLookup(t => t.AfterLayer);
                for (int i = 0; i < program.Layers.Count; i++)
                {
                    var layer = program.Layers[i];
                    string group = BlockOf(layer.Node.Module);
                    if (group != block)
                    {
                        if (block != null) w.Line();
                        w.Line($"// {BlockHeader(program, group)}");
                        block = group;
                    }
                    w.Line($"{MethodName(layer, isa)}({LayerArguments(layer)});");
                    foreach (var tap in taps[i])
                    {
                        w.Line($"features?.Capture({tap.Index}, image, {Pointer(program, tap.Source)}); // {CommentText(tap.Name)}: [{tap.Channels}, {tap.Height}, {tap.Width}]");
                    }
                }
                w.Close();
            }
        }

        /// <summary>The convs' methods for one vector width, or (<paramref name="isa"/> null) the layers that run alike on both.</summary>
        private static void EmitLayerMethods(SourceWriter w, CpuProgram program, Isa? isa)
        {
            foreach (var layer in program.Layers.Where(l => (l is CpuConv) == (isa != null)))
            {
                w.Line();
                var (input, output) = Shapes(program, layer);
                w.Line("/// <summary>");
                w.Line($"/// {DocText(layer.Node.Module)}: {DocText(Computes(layer))}. [{string.Join(", ", input)}] → [{string.Join(", ", output)}]");
                w.Line("/// </summary>");
                string parameters = layer switch
                {
                    CpuConv c when c.Operands.Any(o => o.Operand.Kind == OperandKind.Input) => "float* input",
                    CpuLinear => "float* logits",
                    _ => "",
                };
                w.Open($"private void {MethodName(layer, isa)}({parameters})");
                switch (layer)
                {
                    case CpuConv c:
                        var s = isa == Isa.Avx512 ? c.Avx512 : c.Avx2;
                        string entry = $"{(s.Algorithm == ConvAlgorithm.Direct ? "Direct" : "Gemm")}{isa!.Name}";
                        w.Line($"// {CommentText(s.Description)}");
                        var operands = new List<string> { $"Weights = Packed + {c.WeightOffset}", $"Bias = Packed + {c.BiasOffset}" };
                        operands.AddRange(c.Operands.Select(o => $"{o.Role} = {Pointer(program, o.Operand)}"));
                        w.Line($"ConvKernels.{entry}<{LayerTypeName(c.Shape, s)}>(new() {{ {string.Join(", ", operands)} }});");
                        break;
                    case CpuPool p:
                        var a = p.Node.Attributes;
                        string kernel = a.Pool switch
                        {
                            PoolKind.Max => "Max",
                            PoolKind.AverageIncludePad => "AverageIncludePad",
                            _ => "AverageCeilExcludePad",
                        };
                        w.Line($"Pooling.{kernel}({Pointer(program, p.Source)}, {Pointer(program, p.Destination)}, channels: {p.Channels}, height: {p.Height}, width: {p.Width}, kernel: {a.Kernel}, stride: {a.Stride}, padding: {a.Padding}, outHeight: {p.OutHeight}, outWidth: {p.OutWidth});");
                        break;
                    case CpuGlobalPool g:
                        w.Line($"Pooling.GlobalAverage({Pointer(program, g.Source)}, {Pointer(program, g.Destination)}, channels: {g.Channels}, size: {g.Pixels});");
                        break;
                    case CpuLinear l:
                        w.Line($"Linear.Forward(Packed + {l.WeightOffset}, Packed + {l.BiasOffset}, {Pointer(program, l.Source)}, logits, outFeatures: {l.OutFeatures}, inFeatures: {l.InFeatures});");
                        break;
                }
                w.Close();
            }
        }

        /// <summary>One <c>readonly struct</c> per distinct conv signature and vector width: the constants its kernel is compiled for.</summary>
        private static void EmitLayerTypes(SourceWriter w, CpuProgram program)
        {
            w.Line();
            w.Line("// The conv layer types: one per distinct signature and vector width. The kernels are generic over them, so the JIT");
            w.Line("// compiles one copy of each with every shape, fusion and schedule below folded in.");
            var emitted = new HashSet<string>();
            foreach (var c in program.Layers.OfType<CpuConv>())
            {
                foreach (var s in new[] { c.Avx512, c.Avx2 })
                {
                    string name = LayerTypeName(c.Shape, s);
                    if (!emitted.Add(name)) continue;
                    var x = c.Shape;
                    bool direct = s.Algorithm == ConvAlgorithm.Direct;
                    w.Line();
                    w.Line($"/// <summary>{DocText(SignatureText(x))}. {IsaText(s.Isa)}: {DocText(s.Description)}.</summary>");
                    w.Open($"private readonly struct {name} : {(direct ? "IDirectConvLayer" : "IGemmConvLayer")}");
                    w.Line($"public static int OutChannels => {x.OutChannels};");
                    w.Line($"public static int InChannels => {x.InChannels};");
                    w.Line($"public static int Height => {x.Height};");
                    w.Line($"public static int Width => {x.Width};");
                    w.Line($"public static int Kernel => {x.Kernel};");
                    w.Line($"public static int Stride => {x.Stride};");
                    w.Line($"public static int Padding => {x.Padding};");
                    w.Line($"public static int OutHeight => {x.OutHeight};");
                    w.Line($"public static int OutWidth => {x.OutWidth};");
                    w.Line($"public static bool Summed => {Bool(x.Summed)};");
                    w.Line($"public static int TailChannel => {x.TailChannel};");
                    if (x.TailChannel > 0)
                    {
                        w.Line($"public static int TailStride => {x.TailStride};");
                        w.Line($"public static int TailHeight => {x.TailHeight};");
                        w.Line($"public static int TailWidth => {x.TailWidth};");
                    }
                    w.Line($"public static bool Residual => {Bool(x.Residual)};");
                    w.Line($"public static bool Relu => {Bool(x.Relu)};");
                    w.Line($"public static ThreadSplit Split => ThreadSplit.{s.Split};");
                    if (direct)
                    {
                        w.Line($"public static int Tiles => {s.Tiles};");
                        w.Line($"public static int FiveVectorTiles => {s.FiveVectorTiles};");
                    }
                    else
                    {
                        w.Line($"public static GemmInput Input => GemmInput.{s.Input};");
                        w.Line($"public static bool PackB => {Bool(s.PackB)};");
                        w.Line($"public static GemmRemainder Remainder => GemmRemainder.{s.Remainder};");
                    }
                    w.Close();
                }
            }
        }

        /// <summary>A conv's method for one vector width (<c>Layer1_0_Conv1_Avx512</c>); the other layers' are the same on both.</summary>
        private static string MethodName(CpuLayer layer, Isa? isa) => layer is CpuConv && isa != null ? $"{layer.Method}_{isa.Name}" : layer.Method;

        /// <summary><c>Avx512_Conv3x3s1_14x56x56_To14_Sum_Relu</c>: the vector width, then the signature.</summary>
        internal static string LayerTypeName(ConvShape x, ConvSchedule s) => $"{s.Isa.Name}_{SignatureName(x)}";

        /// <summary><c>Conv3x3s1_14x56x56_To14_Sum_Relu</c>: a conv signature as a type name (the device forward's shape structs too).</summary>
        internal static string SignatureName(ConvShape x) =>
            $"Conv{x.Kernel}x{x.Kernel}s{x.Stride}{(x.Padding != x.Kernel / 2 ? $"p{x.Padding}" : "")}_{x.InChannels}x{x.Height}x{x.Width}_To{x.OutChannels}" +
            (x.Summed ? "_Sum" : "") + TailName(x) + (x.Residual ? "_Res" : "") + (x.Relu ? "_Relu" : "");

        /// <summary><c>_Tail78</c> (a last split read in place), <c>_Tail224s2of56x56</c> (a shortcut input read at stride 2).</summary>
        private static string TailName(ConvShape x) =>
            x.TailChannel == 0 ? "" : $"_Tail{x.TailChannel}" + (x.TailStride > 1 ? $"s{x.TailStride}of{x.TailHeight}x{x.TailWidth}" : "");

        private static string SignatureText(ConvShape x) =>
            $"{x.Kernel}×{x.Kernel} conv, stride {x.Stride}, padding {x.Padding}: [{x.InChannels}, {x.Height}, {x.Width}] → [{x.OutChannels}, {x.OutHeight}, {x.OutWidth}]" +
            (x.Summed ? ", on sp + spx[i]" : "") + (x.TailChannel > 0 ? $", channels {x.TailChannel}+ from the tail" : "") +
            (x.TailStride > 1 ? $" ([{x.InChannels - x.TailChannel}, {x.TailHeight}, {x.TailWidth}] at stride {x.TailStride})" : "") +
            ", bias" + (x.Residual ? " + residual" : "") + (x.Relu ? " + ReLU" : "");

        private static string LayerArguments(CpuLayer layer) => layer switch
        {
            CpuConv c when c.Operands.Any(o => o.Operand.Kind == OperandKind.Input) => "input",
            CpuLinear => "logits",
            _ => "",
        };

        /// <summary>What a layer computes, in PyTorch's terms: the module and everything fused into it.</summary>
        internal static string Computes(CpuLayer layer)
        {
            var node = layer.Node;
            var parts = new List<string>();
            foreach (var f in node.Fused.OfType<InputSum>()) parts.Add($"{Leaf(node.Module)}(sp + spx[i])");
            if (parts.Count == 0) parts.Add(Leaf(node.Module));
            foreach (var f in node.Fused)
            {
                switch (f)
                {
                    case FoldedBatchNorm bn: parts.Add(Leaf(bn.Module)); break;
                    case ResidualAdd: parts.Add("identity"); break;
                    case ShortcutConv sc:
                        parts.Add($"{Leaf(sc.Conv.Module)}(x)");
                        parts.AddRange(sc.Conv.Fused.OfType<FoldedBatchNorm>().Select(bn => Leaf(bn.Module)));
                        break;
                    case FusedRelu: parts.Add("ReLU"); break;
                    case IdentityPool p: parts.Insert(0, $"{Leaf(p.Module)} (AvgPool2d(1), the identity)"); break;
                }
            }
            string text = string.Join(" + ", parts);
            if (layer is CpuConv c && c.Shape.TailChannel > 0)
            {
                text += node.Fused.OfType<ShortcutConv>().SingleOrDefault() is { } shortcut
                    ? $"; input channels {c.Shape.TailChannel}+ are the block's input x{(c.Shape.TailStride > 1 ? $" at stride {c.Shape.TailStride}" : "")}, " +
                      $"weighted by {Leaf(shortcut.Conv.Module)}'s packed weights (the shortcut in the same GEMM)"
                    : $"; input channels {c.Shape.TailChannel}+ are the last split, read in place";
            }
            return layer switch
            {
                CpuConv cv => $"{text}; Conv2d({cv.Shape.InChannels}, {cv.Shape.OutChannels}, {cv.Shape.Kernel}×{cv.Shape.Kernel}, stride {cv.Shape.Stride}, padding {cv.Shape.Padding})",
                CpuPool p => p.Node.Attributes.Pool switch
                {
                    PoolKind.Max => $"MaxPool2d({p.Node.Attributes.Kernel}, stride {p.Node.Attributes.Stride}, padding {p.Node.Attributes.Padding})",
                    PoolKind.AverageIncludePad => $"AvgPool2d({p.Node.Attributes.Kernel}, stride {p.Node.Attributes.Stride}, padding {p.Node.Attributes.Padding}) of the last split into the last concat slot",
                    _ => $"AvgPool2d({p.Node.Attributes.Kernel}, stride {p.Node.Attributes.Stride}, ceil_mode=True, count_include_pad=False)",
                },
                CpuGlobalPool => "GlobalAveragePooling",
                CpuLinear l => $"Linear({l.InFeatures}, {l.OutFeatures})",
                _ => text,
            };
        }

        private static string Leaf(string module)
        {
            int i = module.IndexOf('.');
            return module.StartsWith("layer", System.StringComparison.Ordinal) && i >= 0 && module.IndexOf('.', i + 1) is int j and >= 0
                ? module.Substring(j + 1)
                : module;
        }

        /// <summary>Input and output shapes of a layer, for comments and the layer table.</summary>
        internal static (int[] Input, int[] Output) Shapes(CpuProgram program, CpuLayer layer)
        {
            var x = program.Fused.Values[layer.Node.Input];
            var y = program.Fused.Values[layer.Node.Output];
            return layer switch
            {
                CpuConv c => (new[] { c.Shape.InChannels, c.Shape.Height, c.Shape.Width }, new[] { c.Shape.OutChannels, c.Shape.OutHeight, c.Shape.OutWidth }),
                CpuGlobalPool g => (new[] { g.Channels, x.Height, x.Width }, new[] { g.Channels }),
                CpuLinear l => (new[] { l.InFeatures }, new[] { l.OutFeatures }),
                _ => (new[] { x.Channels, x.Height, x.Width }, new[] { y.Channels, y.Height, y.Width }),
            };
        }

        /// <summary><c>layer1.0.convs.3</c> → <c>layer1.0</c>; the stem's modules → <c>stem</c>; the rest → <c>head</c>.</summary>
        private static string BlockOf(string module)
        {
            if (!module.StartsWith("layer", System.StringComparison.Ordinal)) return module is "neck.gap" or "head.fc" ? "head" : "stem";
            var parts = module.Split('.');
            return parts[0] + "." + parts[1];
        }

        private static string BlockHeader(CpuProgram program, string block)
        {
            var spec = program.Spec;
            if (block == "stem") return spec.Stem == StemKind.Plain ? "Stem: conv1 7×7 stride 2, bn1, ReLU, max-pool" : "Stem (deep, v1b): three 3×3 convs, each with BN and ReLU, then max-pool";
            if (block == "head") return "Neck and head: global average pooling, fc";
            var conv1 = program.Layers.OfType<CpuConv>().First(c => c.Node.Module == block + ".conv1");
            var conv3 = program.Layers.OfType<CpuConv>().First(c => c.Node.Module == block + ".conv3");
            bool stage = block.EndsWith(".0", System.StringComparison.Ordinal);
            int width = conv1.Shape.OutChannels / spec.Scales;
            return $"{block}: Bottle2neck {conv1.Shape.InChannels} → {conv3.Shape.OutChannels}, " +
                   $"{spec.Scales} splits of width {width}, {(stage ? $"'stage' block (stride {program.Layers.OfType<CpuConv>().First(c => c.Node.Module == block + ".convs.0").Shape.Stride}, pooled last split)" : "'normal' block (hierarchical sp + spx[i])")}";
        }

        private static string Pointer(CpuProgram program, Operand o)
        {
            if (o.Kind == OperandKind.Input) return "input";
            if (o.Kind == OperandKind.Logits) return "logits";
            string buffer = program.Buffers.First(b => b.Value == o.Buffer).Name;
            if (o.Within == 0) return $"Arena + {buffer}";
            return $"Arena + {buffer} + {o.Within}{(o.Label.Length > 0 ? $" /* {CommentText(o.Label)} */" : "")}";
        }

        /// <summary>The members a network's class declares that depend on its layers: the class may not share a name with one.</summary>
        internal static IEnumerable<(string Name, string What)> MemberNames(CpuProgram program)
        {
            foreach (var layer in program.Layers)
            {
                foreach (var isa in new Isa?[] { Isa.Avx512, Isa.Avx2, null }) yield return (MethodName(layer, isa), $"the method of layer {layer.Node.Module}");
                if (layer is CpuConv c)
                {
                    yield return (LayerTypeName(c.Shape, c.Avx512), $"the layer type of {layer.Node.Module}");
                    yield return (LayerTypeName(c.Shape, c.Avx2), $"the layer type of {layer.Node.Module}");
                }
            }
            foreach (var b in program.Buffers) yield return (b.Name, $"the arena buffer written by {b.FirstWriter}");
        }

        private static string IsaText(Isa isa) => isa == Isa.Avx512 ? "AVX-512" : "AVX2";

        private static string Bool(bool b) => b ? "true" : "false";

        private static string Describe(NetworkSpec spec)
        {
            string depth = spec.Depth != 0 ? $"Res2Net-{spec.Depth}" : $"Res2Net with blocks [{string.Join(", ", spec.Blocks)}]";
            return $"{depth}, base width {spec.BaseWidth}, scales {spec.Scales}, {(spec.Stem == StemKind.Plain ? "plain 7×7" : "deep 3×3")} stem" +
                   $"{(spec.AvgDown ? ", avg_down" : "")}, {spec.NumClasses} classes";
        }

        private static string FloatLiteral(float f) => f.ToString("R", CultureInfo.InvariantCulture) + "f";
    }
}
