using System.Collections.Generic;
using System.IO;
using System.Linq;
using Res2Net.Generator.Emitting;
using Res2Net.Generator.Graph;
using Res2Net.Generator.Lowering.Cpu;
using Res2Net.Generator.Lowering.Gpu;
using Res2Net.Generator.Model;
using static Res2Net.Generator.Emitting.CSharpText;

namespace Res2Net.Generator
{
    public sealed partial class Res2NetGenerator
    {
        /// <summary>
        /// Writes one network's device forward (<c>X.Gpu.g.cs</c>, emitted only into compilations that reference ILGPU):
        /// a <c>DeviceProgram</c> whose <c>Run</c> launches every layer in order on one stream, with the arena offsets of the
        /// CPU plan, and one struct per distinct conv signature and pool shape whose constants the ILGPU kernels are
        /// specialized for.
        /// </summary>
        internal static string EmitDevice(GpuProgram program, string ns)
        {
            var spec = program.Spec;
            string cls = Identifier(DeviceClassName(spec));
            var w = new SourceWriter();
            GeneratedFileHeader.WriteNetwork(w, spec);
            w.Line($"// The device forward (ILGPU) of {CommentText(spec.ClassName)}.g.cs.");
            w.Line("#nullable enable");
            w.Line();
            w.Line("using Res2Net.Gpu;");
            w.Line("using Res2Net.Gpu.Kernels;");
            w.Line();
            w.Line($"namespace {Namespace(ns)};");
            w.Line();
            w.Line("/// <summary>");
            w.Line($"/// {DocText(spec.Name)} on an ILGPU device: {program.Layers.Count} kernel launches per forward, in order on one stream, over the");
            w.Line($"/// whole batch. Each image's activations take {Format(program.ArenaFloats)} floats of the device arena, at the offsets the");
            w.Line("/// liveness pass placed them for the CPU; the weights are the CPU binder's packed floats (BatchNorm folded), uploaded once.");
            w.Line("/// Convs are implicit GEMMs specialized for their signature (the structs below) with bias, residual and ReLU in");
            w.Line("/// the epilogue, the hierarchical sp + spx[i] summed as the input is gathered, and concat slots written in place.");
            w.Line("/// </summary>");
            w.Open($"public sealed class {cls} : DeviceProgram");
            w.Line($"public {cls}() : base({StringLiteral(spec.Name)}, arenaFloats: {program.ArenaFloats}, packedFloats: {program.PackedFloats}, " +
                   $"inputElements: {3 * spec.InputHeight * spec.InputWidth}, numClasses: {spec.NumClasses}, launches: {program.Layers.Count})");
            w.Line("{");
            w.Line("}");
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Open("protected override void Run(DeviceRun r)");
            for (int i = 0; i < program.Layers.Count; i++)
            {
                var layer = program.Layers[i];
                w.Line($"r.{Launch(layer)}; // {CommentText(layer.Node.Module)}");
                foreach (var tap in program.Taps.Where(t => t.AfterLayer == i))
                {
                    w.Line($"r.Tap({tap.Index}, {tap.Offset}, {tap.Elements}); // {CommentText(tap.Name)}");
                }
            }
            w.Close();

            var convs = program.Layers.OfType<GpuConv>().Select(c => c.Shape).Distinct().ToList();
            foreach (var s in convs)
            {
                w.Line();
                w.Open($"private readonly struct {SignatureName(s)} : IConvShape");
                foreach (var (name, value) in new (string, object)[]
                {
                    ("OutChannels", s.OutChannels), ("InChannels", s.InChannels), ("Height", s.Height), ("Width", s.Width), ("Kernel", s.Kernel),
                    ("Stride", s.Stride), ("Padding", s.Padding), ("OutHeight", s.OutHeight), ("OutWidth", s.OutWidth), ("Summed", s.Summed),
                    ("TailChannel", s.TailChannel), ("TailStride", s.TailStride), ("TailHeight", s.TailChannel > 0 ? s.TailHeight : s.Height),
                    ("TailWidth", s.TailChannel > 0 ? s.TailWidth : s.Width), ("Residual", s.Residual), ("Relu", s.Relu),
                })
                {
                    w.Line($"public {(value is bool ? "bool" : "int")} {name} => {(value is bool b ? (b ? "true" : "false") : value)};");
                }
                w.Close();
            }
            foreach (var p in program.Layers.OfType<GpuPool>().Select(PoolKey).Distinct())
            {
                w.Line();
                w.Open($"private readonly struct {PoolTypeName(p)} : IPoolShape");
                foreach (var (name, value) in new (string, object)[]
                {
                    ("Channels", p.Channels), ("Height", p.Height), ("Width", p.Width), ("Kernel", p.Kernel), ("Stride", p.Stride), ("Padding", p.Padding),
                    ("OutHeight", p.OutHeight), ("OutWidth", p.OutWidth), ("Max", p.Kind == PoolKind.Max), ("IncludePad", p.Kind == PoolKind.AverageIncludePad),
                })
                {
                    w.Line($"public {(value is bool ? "bool" : "int")} {name} => {(value is bool b ? (b ? "true" : "false") : value)};");
                }
                w.Close();
            }
            w.Close();
            return w.ToString();
        }

        private static string Launch(GpuLayer layer) => layer switch
        {
            GpuConv c => $"Conv<{SignatureName(c.Shape)}, {c.Cuda}, {c.Cpu}>(source: {c.Source}, fromImage: {(c.FromImage ? "true" : "false")}, second: {c.Second}, " +
                         $"tail: {c.Tail}, destination: {c.Destination}, residual: {c.Residual}, weights: {c.Weights}, bias: {c.Bias})",
            GpuPool p => $"Pool<{PoolTypeName(PoolKey(p))}>(source: {p.Source}, destination: {p.Destination})",
            GpuGlobalPool g => $"GlobalAverage(channels: {g.Channels}, pixels: {g.Pixels}, source: {g.Source}, destination: {g.Destination})",
            GpuLinear l => $"Linear(inFeatures: {l.InFeatures}, outFeatures: {l.OutFeatures}, source: {l.Source}, weights: {l.Weights}, bias: {l.Bias})",
            _ => throw new System.InvalidOperationException(layer.Node.Module),
        };

        /// <summary>A pool's shape without where it reads and writes (two pools of one shape share a kernel).</summary>
        private static GpuPool PoolKey(GpuPool p) => p with { Node = p.Node with { Module = "" }, Method = "", Source = 0, Destination = 0 };

        private static string PoolTypeName(GpuPool p) =>
            $"{p.Kind}Pool{p.Kernel}x{p.Kernel}s{p.Stride}p{p.Padding}_{p.Channels}x{p.Height}x{p.Width}";

        /// <summary>The device programs of this compilation by network name or class name (<c>Res2NetDevicePrograms.Create</c>).</summary>
        internal static string EmitDeviceRegistry(IReadOnlyList<NetworkSpec> specs, string ns)
        {
            var w = new SourceWriter();
            GeneratedFileHeader.WriteRegistry(w, specs);
            w.Line("// The device forwards (ILGPU) of these networks.");
            w.Line("#nullable enable");
            w.Line();
            w.Line($"namespace {Namespace(ns)};");
            w.Line();
            w.Line("/// <summary>The generated device forwards (ILGPU) of this project's networks.</summary>");
            w.Open("public static class Res2NetDevicePrograms");
            w.Line("/// <summary>The names of the networks with a device forward.</summary>");
            w.Line($"public static global::System.Collections.Generic.IReadOnlyList<string> Names {{ get; }} = new string[] {{ {string.Join(", ", specs.Select(s => StringLiteral(s.Name)))} }};");
            w.Line();
            w.Line("/// <summary>A new device forward for the network of that name or class name; null if there is none.</summary>");
            w.Open("public static global::Res2Net.Gpu.DeviceProgram? Create(string name) => name switch");
            foreach (var s in specs)
            {
                w.Line($"{StringLiteral(s.Name)}{(s.Name == s.ClassName ? "" : $" or {StringLiteral(s.ClassName)}")} => new {Identifier(DeviceClassName(s))}(),");
            }
            w.Line("_ => null,");
            w.Close(";");
            w.Close();
            return w.ToString();
        }
    }
}
